"""Text to speech: ``client.tts``."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, overload

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field

from .._download import check_destination, download, read_all, stream_chunks
from .._types import NOT_GIVEN, NotGiven
from ._base import Endpoints, run_id_of
from ._fields import Body, Id, LanguageId, ProjectFields, StreamLocale, Text, build
from ._files import FILE_URL, FileResults, FileUrl

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Iterable

    from .._download import Destination

__all__ = ["TTS", "InferenceOptions", "OutputConfiguration", "SpeechModel", "VoiceSettings"]

SpeechModel = Literal["mars-pro", "mars-flash", "mars-instruct", "mars-8.1-pro-beta", "mars-8.1-flash-beta"]
"""The speech models the API documents for ``tts.stream()``, offered for completion;
``speech_model`` takes any other name as well (the API adds models)."""


class _TtsBody(ProjectFields):
    text: Text
    voice_id: Id
    language: LanguageId  # POST /tts takes the int id
    gender: int | None = None
    age: Annotated[int, Field(ge=0)] | None = None


class OutputConfiguration(BaseModel):
    """The audio ``tts.stream()`` sends: format, duration, enhancement, sample rate."""

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True, extra="forbid", frozen=True)

    format: (
        Literal[
            "wav",
            "flac",
            "adts",
            "mp3",
            "pcm_s16le",
            "pcm_s16be",
            "pcm_s32be",
            "pcm_s32le",
            "pcm_f32le",
            "pcm_f32be",
        ]
        | None
    ) = None
    duration: Annotated[float, Field(gt=0)] | None = None
    apply_enhancement: bool | None = None
    sample_rate: Annotated[int, Field(gt=0)] | None = None


class VoiceSettings(BaseModel):
    """How ``tts.stream()`` treats the reference voice."""

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True, extra="forbid", frozen=True)

    enhance_reference_audio_quality: bool | None = None
    maintain_source_accent: bool | None = None
    apply_ref_loudness_norm: bool | None = None
    speaking_rate: Annotated[float, Field(gt=0)] | None = None


class InferenceOptions(BaseModel):
    """Sampling options of the MARS-8 models, in the ranges the API documents."""

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True, extra="forbid", frozen=True)

    stability: Annotated[float, Field(ge=0, le=1)] | None = None
    temperature: Annotated[float, Field(ge=0.01, le=4.0)] | None = None
    inference_steps: Annotated[int, Field(ge=1, le=1000)] | None = None
    speaker_similarity: Annotated[float, Field(ge=0, le=1)] | None = None
    localize_speaker_weight: float | None = None
    acoustic_quality_boost: bool | None = None


class _StreamBody(Body):
    text: Text
    voice_id: Id
    language: StreamLocale  # POST /tts-stream takes a locale
    speech_model: Text | None = None
    user_instructions: str | None = None
    enhance_named_entities_pronunciation: bool | None = None
    output_configuration: OutputConfiguration | None = None
    voice_settings: VoiceSettings | None = None
    inference_options: InferenceOptions | None = None


class TTS(FileResults):
    """Text to speech: ``create`` a task and fetch its audio, or ``stream`` it at once."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "tts", "tts", result="tts-result", batch="tts-results", batch_least=2
    )

    async def create(
        self,
        *,
        text: str,
        voice_id: int,
        language: int | str,
        gender: int | None = None,
        age: int | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start a text-to-speech task (``POST /tts``) and return its task id.

        ``language`` is the API's int id or a locale (``"en-us"``), sent as the
        id. Never sent twice: a create is retried only when it surely did not
        reach the server, so a retry cannot create (and bill) a second task.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
            CreateOutcomeUnknownError: It failed after it may have reached the server.
        """
        body = build(
            _TtsBody,
            "tts.create()",
            text=text,
            voice_id=voice_id,
            language=language,
            gender=gender,
            age=age,
            project_name=project_name,
            project_description=project_description,
            folder_id=folder_id,
        )
        return await self._create(body)

    async def results(self, run_ids: Iterable[int]) -> dict[int, FileUrl]:
        """Finished runs' audio URLs (``POST /tts-results``, 2 to 5 a request), keyed by
        run id; a lone id is asked of ``GET /tts-result/{run_id}?output_type=file_url``."""
        return await self._results(run_ids, FILE_URL, lone_params={"output_type": "file_url"})

    @contextlib.asynccontextmanager
    async def stream(
        self,
        *,
        text: str,
        voice_id: int,
        language: int | str,
        speech_model: SpeechModel | str | None = None,
        user_instructions: str | None = None,
        enhance_named_entities_pronunciation: bool | None = None,
        output_configuration: OutputConfiguration | None = None,
        voice_settings: VoiceSettings | None = None,
        inference_options: InferenceOptions | None = None,
    ) -> AsyncGenerator[AsyncIterator[bytes], None]:
        """Speak ``text`` at once (``POST /tts-stream``): the audio as it is made.

        ::

            async with client.tts.stream(text="Hi", voice_id=1, language="en-us") as audio:
                async for chunk in audio:
                    player.feed(chunk)

        Leaving the block, early or not, closes the response. ``language`` is a
        locale or the API's int id (sent as the locale; UK English as ``en-uk``).
        ``speech_model`` is one of :data:`SpeechModel` or any newer model's name.
        Not retried once sent.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
            DownloadInterruptedError: The audio broke off midway.
        """
        body = build(
            _StreamBody,
            "tts.stream()",
            text=text,
            voice_id=voice_id,
            language=language,
            speech_model=speech_model,
            user_instructions=user_instructions,
            enhance_named_entities_pronunciation=enhance_named_entities_pronunciation,
            output_configuration=output_configuration,
            voice_settings=voice_settings,
            inference_options=inference_options,
        )
        fields = body.model_dump(mode="json", exclude_none=True)
        async with self._requester.stream("POST", "/tts-stream", json=fields, idempotent=False) as response:
            chunks = stream_chunks(self._requester, response)
            try:
                yield chunks
            finally:
                await chunks.aclose()

    @overload
    async def synthesize(
        self,
        *,
        text: str,
        voice_id: int,
        language: int | str,
        to: None = None,
        timeout: float | NotGiven | None = ...,
        gender: int | None = ...,
        age: int | None = ...,
        project_name: str | None = ...,
        project_description: str | None = ...,
        folder_id: int | None = ...,
    ) -> bytes: ...
    @overload
    async def synthesize(
        self,
        *,
        text: str,
        voice_id: int,
        language: int | str,
        to: Destination,
        timeout: float | NotGiven | None = ...,
        gender: int | None = ...,
        age: int | None = ...,
        project_name: str | None = ...,
        project_description: str | None = ...,
        folder_id: int | None = ...,
    ) -> int: ...
    async def synthesize(
        self,
        *,
        text: str,
        voice_id: int,
        language: int | str,
        to: Destination | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        gender: int | None = None,
        age: int | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> bytes | int:
        """Create a task, wait for it, and return its audio as ``bytes``; with
        ``to``, write it there (as :meth:`download` does) and return the bytes written.

        Takes :meth:`create`'s fields; ``timeout`` bounds the wait (the client's
        ``watch_timeout`` by default).

        A ``to`` that cannot be written (a folder, a missing folder) fails before
        the task is created.

        Raises:
            TaskError: The task failed (``TaskFailedError`` & co.).
            WatchTimeoutError: ``timeout`` passed first.
        """
        if to is not None:
            await anyio.to_thread.run_sync(check_destination, to)
        task_id = await self.create(
            text=text,
            voice_id=voice_id,
            language=language,
            gender=gender,
            age=age,
            project_name=project_name,
            project_description=project_description,
            folder_id=folder_id,
        )
        final = await self.wait(task_id, timeout=timeout)
        path = self._file_path(run_id_of(task_id, final))
        if to is None:
            return await read_all(self._requester, path)
        return await download(self._requester, path, to)
