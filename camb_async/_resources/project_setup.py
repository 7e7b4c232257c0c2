"""A dubbing-studio project set up without running the dub: ``client.project_setup``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, ClassVar

import pydantic
from pydantic import AliasChoices, Field

from .._models import TaskState, TaskStatus
from .._paths import run_id_segment
from ._base import Endpoints, TaskResource, parse_status
from ._fields import Id, Language, ProjectFields, Text, build
from ._models import Result

if TYPE_CHECKING:
    import httpx

__all__ = ["ProjectSetup", "ProjectSetupResult"]


class ProjectSetupResult(Result):
    """A project set up in CAMB.AI Studio: its run id and ``project_details``
    (name, languages, ``studio_url``...), read from ``project_details`` (camb-sdk) or
    ``run_details`` (the reference page)."""

    run_id: int
    project_details: Annotated[
        dict[str, pydantic.JsonValue],
        Field(validation_alias=AliasChoices("project_details", "run_details")),
    ] = Field(default_factory=dict)


_RESULT: pydantic.TypeAdapter[ProjectSetupResult] = pydantic.TypeAdapter(ProjectSetupResult)
_LIST: pydantic.TypeAdapter[list[ProjectSetupResult]] = pydantic.TypeAdapter(list[ProjectSetupResult])


class _SetupBody(ProjectFields):
    media_url: Text
    source_language: Language
    target_languages: Sequence[Language]
    selected_audio_tracks: Sequence[Id] | None = None
    add_output_as_an_audio_track: bool | None = None
    chosen_dictionaries: Sequence[Id] | None = None


def _parse_result(response: httpx.Response) -> ProjectSetupResult | None:
    return _RESULT.validate_json(response.content) if response.content.strip() else None


class ProjectSetup(TaskResource):
    """Set up a dubbing project in CAMB.AI Studio without running the dub.

    Its status endpoint may answer, instead of a status, the list of projects
    set up (as camb-sdk models it): a non-empty list reads as SUCCESS with the
    first project's ``run_id`` (all of them kept under ``projects``), an empty
    one as PENDING. An ordinary status object reads as for every family.
    """

    endpoints: ClassVar[Endpoints] = Endpoints(
        "project_setup", "project-setup", result="project-setup-result", batch="project-setup-results"
    )

    def _parse_status(self, response: httpx.Response) -> TaskStatus:
        if not response.content.lstrip().startswith(b"["):
            return parse_status(response)
        projects = _LIST.validate_json(response.content)
        if not projects:
            return TaskStatus(status=TaskState.PENDING)
        shown = [project.model_dump(mode="json") for project in projects]
        return TaskStatus.model_validate(
            {"status": TaskState.SUCCESS, "run_id": projects[0].run_id, "projects": shown}
        )

    async def create(
        self,
        *,
        media_url: str,
        source_language: int | str,
        target_languages: Sequence[int | str],
        selected_audio_tracks: Sequence[int] | None = None,
        add_output_as_an_audio_track: bool | None = None,
        chosen_dictionaries: Sequence[int] | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start setting up a project for the video at ``media_url``
        (``POST /project-setup``); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        return await self._create(
            build(
                _SetupBody,
                "project_setup.create()",
                media_url=media_url,
                source_language=source_language,
                target_languages=target_languages,
                selected_audio_tracks=selected_audio_tracks,
                add_output_as_an_audio_track=add_output_as_an_audio_track,
                chosen_dictionaries=chosen_dictionaries,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )

    async def result(self, run_id: int) -> ProjectSetupResult | None:
        """A set-up project (``GET /project-setup-result/{run_id}``); ``None`` when the API
        answers with an empty body."""
        path = f"/{self.endpoints.result}/{run_id_segment(run_id)}"
        return await self._requester.request("GET", path, _parse_result)

    async def results(self, run_ids: Iterable[int]) -> dict[int, ProjectSetupResult]:
        """Many set-up projects at once (``POST /project-setup-results``, which answers a
        list), keyed by run id."""
        return await self._results(run_ids, _RESULT)
