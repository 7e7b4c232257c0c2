"""The ``/apis`` endpoints of the task families, built from the family table, and the path router."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .._models import TaskState
from ._families import BY_NAME, FAMILIES, SERVES, Family, Result, segments, story_details, text_answer
from ._files import TONE
from ._http import Answer, Handler, Request, Streamed, as_list, invalid, not_found, require

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from ._store import Store, TaskRecord

__all__ = ["Router", "task_routes"]

_STREAM_CHUNK = 4096


class Router:
    """Matches ``(method, path segments)`` against path templates such as ``dub/{task_id}``."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, int], list[tuple[str, tuple[str, ...], Handler]]] = {}

    def add(self, method: str, template: str, handler: Handler) -> None:
        parts = tuple(template.split("/"))
        self._routes.setdefault((parts[0], len(parts)), []).append((method, parts, handler))

    def answer(self, request: Request, path: Sequence[str]) -> Answer:
        """The matching endpoint's answer; 404 for an unknown path, 405 for a known one's other method."""
        allowed = False
        for method, parts, handler in self._routes.get((path[0], len(path)), ()):
            params = {p[1:-1]: s for p, s in zip(parts, path, strict=True) if p.startswith("{")}
            if all(p == s for p, s in zip(parts, path, strict=True) if not p.startswith("{")):
                if method == request.method:
                    return handler(request, params)
                allowed = True
        return Answer(405, {"detail": "Method Not Allowed"}) if allowed else not_found()


def task_routes(store: Store) -> list[tuple[str, str, Handler]]:
    """``(method, path template, handler)`` of every task family's endpoints, and the streaming ones."""
    tasks = _Tasks(store)
    routes: list[tuple[str, str, Handler]] = []
    for family in FAMILIES:
        create = "/".join([family.segment, *(f"{{{name}}}" for name in family.params)])
        routes.append(("POST", create, functools.partial(tasks.create, family)))
        routes.append(("GET", f"{family.segment}/{{task_id}}", functools.partial(tasks.status, family)))
        if family.batch is not None:
            routes.append(("POST", family.batch, functools.partial(tasks.batch, family)))
    for segment, names in SERVES.items():
        for count in sorted({n for name in names for n in BY_NAME[name].result_params}):
            template = "/".join([segment, "{run_id}", *(f"{{extra{n}}}" for n in range(count))])
            routes.append(("GET", template, functools.partial(tasks.result, segment)))
    routes += [
        ("POST", "story-setup", tasks.story_setup),
        ("GET", "transcript/{run_id}/{language}", tasks.transcript),
        ("POST", "tts-stream", _tts_stream),
        ("POST", "translation/stream", _translation_stream),
    ]
    return routes


class _Tasks:
    """The endpoints of every family: create, status, result, batch results."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, family: Family, request: Request, params: Mapping[str, str]) -> Answer:
        fields = require(request.form if family.multipart else request.json, family.required)
        if isinstance(fields, Answer):
            return fields
        if (
            family.parent is not None
            and self.store.run(params[family.params[0]], frozenset({family.parent})) is None
        ):
            return not_found(f"run {params[family.params[0]]} not found")
        record = self.store.add(
            self.store.random_timeline(), family=family.name, request=fields, params=dict(params)
        )
        created: dict[str, object] = {"task_id": record.task_id}
        if family.created_message is not None:
            created = {"message": family.created_message, **created}
        return Answer(200, created)

    def status(self, family: Family, request: Request, params: Mapping[str, str]) -> Answer:
        with self.store.lock:
            record = self.store.tasks.get((family.name, params["task_id"]))
            if record is not None:
                record.polls += 1
        if record is None:
            return not_found(f"task {params['task_id']} not found")
        body = record.body_at(self.store.clock())
        if family.listed and body["status"] == TaskState.SUCCESS:
            return Answer(200, [self._shape(record, request, {}, ()).payload])
        return Answer(200, body)

    def result(self, segment: str, request: Request, params: Mapping[str, str]) -> Answer:
        record = self.store.run(params["run_id"], SERVES[segment])
        extra = [params[f"extra{n}"] for n in range(len(params) - 1)]
        if record is None or len(extra) not in BY_NAME[record.family].result_params:
            return not_found(f"run {params['run_id']} not found")
        return self._shape(record, request, request.query, extra)

    def batch(self, family: Family, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.json, ("run_ids",))
        if isinstance(fields, Answer):
            return fields
        values = as_list(fields["run_ids"])
        if values is None:
            return invalid((("body", "run_ids"), "Input should be a valid list", "list_type"))
        run_ids: list[int] = []
        for n, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int):
                return invalid((("body", "run_ids", n), "Input should be a valid integer", "int_type"))
            run_ids.append(value)
        if family.batch_ids is not None:
            low, high = family.batch_ids
            if len(set(run_ids)) != len(run_ids) or not low <= len(run_ids) <= high:
                message = f"Between {low} and {high} unique run IDs are required"
                return invalid((("body", "run_ids"), message, "value_error"))
        query = {**request.query, **dict(family.batch_query)}
        results: dict[str, object] = {}
        for run_id in run_ids:
            record = self.store.run(str(run_id), SERVES[family.result])
            if record is not None:
                answer = self._shape(record, request, query, ())
                if answer.status == 422:
                    return answer
                if answer.status == 200:
                    results[str(run_id)] = answer.payload
        return Answer(200, list(results.values()) if family.listed else results)

    def story_setup(self, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.form, BY_NAME["story"].required)
        if isinstance(fields, Answer):
            return fields
        record = self.store.add([(TaskState.SUCCESS.value, 0.0)], family="story", request=fields)
        assert record.run_id is not None
        return Answer(200, {"run_id": record.run_id, "story_details": story_details(fields, record.run_id)})

    def transcript(self, request: Request, params: Mapping[str, str]) -> Answer:
        record = self.store.run(params["run_id"], SERVES["dub-result"])
        if record is None or record.run_id is None:
            return not_found(f"run {params['run_id']} not found")
        result = Result(record, request.query, (), request.files, self.store.runs)
        language = params["language"]
        parts = segments(record.run_id, f"[{language}] ")
        return text_answer(result, "transcript", f"transcript-{language}", parts, "txt")

    def _shape(
        self, record: TaskRecord, request: Request, query: Mapping[str, str], extra: Sequence[str]
    ) -> Answer:
        result = Result(record, query, extra, request.files, self.store.runs)
        return BY_NAME[record.family].shape(result)


def _tts_stream(request: Request, _: Mapping[str, str]) -> Answer:
    fields = require(request.json, ("text", "language", "voice_id"))
    if isinstance(fields, Answer):
        return fields
    chunks = [TONE[at : at + _STREAM_CHUNK] for at in range(0, len(TONE), _STREAM_CHUNK)]
    return Answer(200, Streamed(lambda: iter(chunks)), "audio/wav")


def _translation_stream(request: Request, _: Mapping[str, str]) -> Answer:
    fields = require(request.json, ("text", "source_language", "target_language"))
    if isinstance(fields, Answer):
        return fields
    words = str(fields["text"]).split(" ")

    def chunks() -> Iterator[bytes]:
        yield f"[{fields['target_language']}]".encode()
        for word in words:
            yield f" {word}".encode()

    return Answer(200, Streamed(chunks), "text/plain; charset=utf-8")
