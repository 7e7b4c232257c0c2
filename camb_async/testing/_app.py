"""The simulator's ASGI application: the API under ``/apis``, its controls and files under ``/_sim``.

WebSocket scopes go to the live sessions (``_live``), counted and logged as ``GET`` requests.

Every request is counted and logged; an ``/apis`` request beyond the rate limit
(``_ratelimit``), when one is set, gets a 429; any other may draw a fault from
the plan in force (see ``_faults``). A multipart body is parsed as it
arrives (``_multipart``); any other body is read whole.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from . import _faults
from ._families import export, segments
from ._faults import FaultPlan
from ._files import TONE, audio_body, file_name, file_type
from ._http import Answer, Receive, Request, Scope, Send, not_found, send_answer
from ._live import LiveHub
from ._multipart import ClientGoneError, MultipartError, read_form
from ._routes import Router, task_routes
from ._shapes import as_documented

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._ratelimit import RateLimit
    from ._shapes import AnswerShapes
    from ._store import Store

__all__ = ["App"]


class App:
    """The ASGI application: the CAMB endpoints, plus ``/_sim`` controls and files."""

    def __init__(self, store: Store, api_key: str | None, faults: _faults.Injector) -> None:
        self.store = store
        self.api_key = api_key
        self.faults = faults
        self.rate_limit: RateLimit | None = None
        self.answer_shapes: AnswerShapes = "sdk"
        self.live = LiveHub(api_key)
        self.router = Router()
        for method, template, handler in [
            *task_routes(store),
            *store.catalog.routes(),
            *store.streams.routes(),
        ]:
            self.router.add(method, template, handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        arrived = self.store.clock()
        raw_path = bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        method = str(scope.get("method", "GET"))
        with self.store.lock:
            self.store.requests += 1
            self.store.paths.append(raw_path)
        if scope["type"] == "websocket":
            self.faults.note(arrived, method, raw_path, None)
            await self.live.serve(scope, receive, send, raw_path)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        request = Request(method, raw_path, headers, query_string=query, port=_port(scope, headers))
        broken = await _read_body(request, receive)
        limit = self.rate_limit
        limited = None if limit is None or not raw_path.startswith("/apis/") else limit.answer(arrived)
        if limited is not None:
            self.faults.note(arrived, method, raw_path, "rate_limited")
            await send_answer(send, receive, limited)
            return
        fault, plan = self.faults.draw(method, api=raw_path.startswith("/apis/"))
        replaced = None if fault is None else _faults.error_answer(fault, plan)
        if replaced is not None:
            status, payload, content_type, extra = replaced
            answer = Answer(status, payload, content_type, tuple(extra))
        else:
            answer = broken or self.route(request)
            if self.answer_shapes == "docs":
                answer = self.documented(request, answer)
            if fault is not None and not _faults.applies(fault, answer.payload):
                fault = None  # e.g. no-status on a 404: nothing to reshape
        self.faults.note(arrived, method, raw_path, fault)
        if fault is not None and replaced is None:
            status, body, content_type = _faults.reshape(
                fault, answer.status, answer.payload, answer.content_type
            )
            answer = Answer(status, body, content_type, answer.headers)
            if fault == "stall":
                await _faults.stall(receive, plan.stall)
            elif fault == "drop":
                await _faults.drop(send, answer)
                return  # unfinished on purpose: the server closes the connection
        await send_answer(send, receive, answer)

    def route(self, request: Request) -> Answer:
        path = [unquote(s) for s in request.path.split("/")[1:]]
        if path[:1] == ["_sim"]:
            return self.control(request, path[1:])
        if path[:1] != ["apis"] or len(path) < 2:
            return not_found()
        key = request.headers.get("x-api-key")
        if not key or (self.api_key is not None and key != self.api_key):
            return Answer(401, {"detail": "Invalid or missing API key"})
        if request.method in ("POST", "PUT", "PATCH") and (
            request.form is not None or request.json is not None
        ):
            with self.store.lock:
                self.store.bodies.append((request.path, dict(request.form or request.json or {})))
        return self.router.answer(request, path[1:])

    def documented(self, request: Request, answer: Answer) -> Answer:
        """``answer`` in the shape the API's reference pages show (see ``_shapes``)."""
        path = [unquote(s) for s in request.path.split("/")[1:]]
        return as_documented(request, path[1:], answer) if path[:1] == ["apis"] else answer

    def control(self, request: Request, rest: list[str]) -> Answer:
        method = request.method
        if rest[:1] == ["files"] and len(rest) == 2 and method == "GET":
            return self.file(request, rest[1])
        if method == "POST" and rest == ["tasks"]:
            return self.seed(request.body)
        if method == "GET" and rest == ["tasks"]:
            with self.store.lock:
                every = [record.as_json() for record in self.store.tasks.values()]
            return Answer(200, {"tasks": every})
        if method == "GET" and len(rest) == 3 and rest[0] == "tasks":
            record = self.store.tasks.get((rest[1], rest[2]))
            return not_found("no such task") if record is None else Answer(200, record.as_json())
        if method == "GET" and rest == ["stats"]:
            return Answer(200, self.stats())
        if rest == ["faults"]:
            return self.control_faults(method, request.body)
        if rest == ["live"]:
            return self.live.control(method, request.body)
        return not_found()

    def seed(self, body: bytes) -> Answer:
        """``POST /_sim/tasks``: add scripted tasks, ``{"tasks": [spec, ...]}``.

        A spec holds ``timeline`` and optionally ``family`` (a public name,
        ``"tts"`` by default), ``task_id``, ``run_id``, ``exception_reason``,
        ``request``, ``result_size`` and ``redirect_result``, as
        :meth:`Simulator.add_task` takes them.
        """
        try:
            specs: list[Mapping[str, Any]] = json.loads(body)["tasks"]
            records = [
                self.store.add(
                    [(str(s), float(t)) for s, t in spec["timeline"]],
                    family=spec.get("family", "tts"),
                    task_id=spec.get("task_id"),
                    run_id=spec.get("run_id"),
                    exception_reason=spec.get("exception_reason"),
                    request=spec.get("request"),
                    result_size=spec.get("result_size"),
                    redirect_result=bool(spec.get("redirect_result", False)),
                )
                for spec in specs
            ]
        except (ValueError, KeyError, TypeError) as exc:
            return Answer(400, {"detail": f"bad task spec: {exc}"})
        return Answer(200, {"task_ids": [r.task_id for r in records]})

    def file(self, request: Request, name: str) -> Answer:
        """``GET /_sim/files/{name}``: a result file (see ``_files``); no API key needed."""
        with self.store.lock:
            self.store.file_requests.append((request.path, "x-api-key" in request.headers))
        parsed = file_name(name)
        record = None if parsed is None else self.store.runs.get(parsed[0])
        if parsed is None or record is None:
            return not_found(f"no file {name}")
        run_id, what, ext = parsed
        if not what:
            return audio_body(run_id, record.result_size)
        if ext in ("srt", "vtt", "txt"):
            return Answer(200, export(segments(run_id), ext).encode(), file_type(ext))
        return Answer(200, TONE, file_type(ext))

    def stats(self) -> dict[str, object]:
        with self.store.lock:
            stats: dict[str, object] = {"requests": self.store.requests, "tasks": len(self.store.tasks)}
        return stats | self.faults.stats()

    def control_faults(self, method: str, body: bytes) -> Answer:
        if method == "POST":
            try:
                plan = FaultPlan.from_json(json.loads(body or b"{}"))
            except (ValueError, TypeError, AttributeError) as exc:
                return Answer(400, {"detail": f"bad fault plan: {exc}"})
            self.faults.set_plan(plan)
        elif method == "DELETE":
            self.faults.set_plan(None)
        elif method != "GET":
            return Answer(405, {"detail": "use GET, POST or DELETE"})
        return Answer(200, {"plan": self.faults.plan.as_json()} | self.faults.stats())


def _port(scope: Scope, headers: Mapping[str, str]) -> int:
    """The port the client reached the server on."""
    server = scope.get("server")
    if server and server[1] is not None:
        return int(server[1])
    host = headers.get("host", "")
    return int(host.rsplit(":", 1)[1]) if ":" in host and host.rsplit(":", 1)[1].isdigit() else 80


def _url_form(body: bytes) -> dict[str, object]:
    """An url-encoded form as a multipart one reads: strings, a repeated field as a list."""
    form: dict[str, object] = {}
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        before = form.get(name)
        form[name] = (
            value if before is None else [*before, value] if isinstance(before, list) else [before, value]
        )
    return form


async def _read_body(request: Request, receive: Receive) -> Answer | None:
    """Read the body into ``request`` (a form as ``form``); the answer to send if it cannot be read."""
    kind = request.headers.get("content-type", "")
    try:
        if kind.lower().startswith("multipart/form-data"):
            request.form = await read_form(receive, kind)
            return None
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGoneError
            chunks.append(bytes(message.get("body", b"")))
            more = bool(message.get("more_body"))
    except MultipartError as exc:
        return Answer(400, {"detail": f"There was an error parsing the body: {exc}"})
    except ClientGoneError:
        return Answer(400, {"detail": "the client hung up"})
    request.body = b"".join(chunks)
    if kind.lower().startswith("application/x-www-form-urlencoded"):
        request.form = _url_form(request.body)
    return None
