"""``AsyncCambClient``: options, lifecycle, and one attribute per API family."""

from __future__ import annotations

import logging
import os
import platform
import weakref
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._breaker import BREAKER_THRESHOLD, PROBE_INTERVAL
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_CONCURRENT_TRANSFERS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REALTIME_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_WATCH_TIMEOUT,
    REALTIME_URL_ENV,
)
from ._download import download
from ._events import emitter
from ._exceptions import CambError, ClientClosedError
from ._handles import TaskHandle
from ._learning import DurationModel
from ._live._endpoint import LiveEndpoint
from ._live._urls import live_urls
from ._live.speech import Realtime
from ._live.transcription import LiveTranscription
from ._live.tts import LiveTTS
from ._many import Completed, check_tasks, task_id_of, track
from ._options import (
    breaker_wait_of,
    check_backoff,
    check_int,
    check_outage,
    check_rate,
    check_seconds,
)
from ._polling import PollSchedule
from ._requester import Requester
from ._resources import FAMILIES, FamilyContext, TaskFamily, TaskResource
from ._resources._fields import check_timeout
from ._resources.audio_separation import AudioSeparation
from ._resources.dubbing import Dubbing, DubbingAltFormat
from ._resources.library import Dictionaries, Folders
from ._resources.live_streams import LiveStreams
from ._resources.project_setup import ProjectSetup
from ._resources.story import Story, TranslatedStory
from ._resources.subtitles import Subtitles
from ._resources.text_to_sound import TextToSound
from ._resources.text_to_voice import TextToVoice
from ._resources.transcription import Transcription
from ._resources.translated_tts import TranslatedTTS
from ._resources.translation import Translation
from ._resources.tts import TTS
from ._resources.voices import Languages, Voices
from ._retry import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY
from ._shared_budget import check_shared_budget
from ._transport import HttpClientBuilder, Transport
from ._types import NOT_GIVEN, NotGiven, TimeoutTypes
from ._version import __version__

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
    from types import TracebackType

    from typing_extensions import Self

    from ._download import Destination, Progress
    from ._events import EventHook
    from ._models import TaskStatus
    from ._polling import TaskWatches
    from ._shared_budget import SharedBudgetSource

__all__ = ["AsyncCambClient"]

log = logging.getLogger("camb_async")
T = TypeVar("T", bound="str | TaskHandle")
K = TypeVar("K")


class AsyncCambClient:
    """An asyncio/trio client for the CAMB.AI API, built on ``httpx.AsyncClient``.

    One client is meant to be shared: thousands of ``watch()``/``wait()``
    calls gathered on it share its connection pool, and the client bounds
    its own requests in flight (``max_concurrent_requests``) so that the
    pool never queues and never raises ``PoolTimeout``.

    Each API family is an attribute named as its ``family=`` name:
    ``client.tts``, ``client.dubbing``, ``client.translation``,
    ``client.transcription``, ``client.text_to_sound``,
    ``client.text_to_voice``, ``client.audio_separation``,
    ``client.subtitles``, ``client.story``, ``client.project_setup``,
    ``client.translated_tts``, ``client.translated_story`` and
    ``client.dubbing_alt_format`` (each with ``create``, ``status``,
    ``watch``, ``wait`` and its results), plus ``client.live_streams``
    (live-stream dubbing), ``client.voices``, ``client.languages``,
    ``client.folders`` and ``client.dictionaries``.
    The live (WebSocket) sessions are ``client.live_tts``,
    ``client.live_transcription`` and ``client.realtime`` (speech-to-speech;
    install ``camb-async[realtime]``): each session is a connection of its own,
    outside the limits, budget and breaker of the requests (docs/realtime.md).

    Args:
        api_key: The API key; defaults to the ``CAMB_API_KEY`` environment variable.
        base_url: Defaults to ``CAMB_BASE_URL``, then ``https://client.camb.ai/apis``.
        timeout: Per-request timeout (seconds, ``httpx.Timeout``, or ``None``).
            Defaults to 5 s to connect and 30 s per read/write, or to the
            timeout of ``http_client`` when one is given.
        max_retries: Retries of a failed request (see docs/retries.md).
        retry_backoff: Seconds before the first retry the server gave no
            ``Retry-After`` for (0.5); it doubles with each retry.
        max_retry_backoff: The longest such wait (8 s). Each is shortened by
            up to a quarter of jitter.
        http_client: Your own ``httpx.AsyncClient`` (proxies, transport,
            event hooks); the SDK sends through it and does not close it.
        max_concurrent_requests: The most requests in flight at once (256).
            Below it the client adapts its limit to the round trip: from 16,
            never under 4, and at most 64 unless the round trip alone is long
            (see docs/polling.md). Keep it below your ``http_client``'s
            ``max_connections``.
        poll_schedule: Default waits between polls for ``watch()``/``wait()``.
        watch_timeout: Default overall deadline of ``watch()``/``wait()``, in
            seconds (600); ``None`` lets them run until the task finishes.
        learn_durations: Let ``watch()``/``wait()`` learn, per task family,
            when this client's past tasks finished: skip polls before almost
            any of them had finished and poll more often where many did (see
            docs/polling.md). Off by default.
        max_concurrent_transfers: Streamed transfers (downloads, ``tts.stream``)
            at once, apart from ``max_concurrent_requests`` so that large
            downloads never starve polls (8).
        max_outage: How long a watch rides out an outage: polls that fail
            with a transient error (no answer, a timeout, 5xx, 429, an
            unreadable body) are tried again on its schedule, backing off,
            until they have failed for this many seconds; ``None`` (the
            default) rides out outages up to the watch's own deadline, ``0``
            ends a watch at its first failed poll. While the API is down the
            client's circuit breaker lets one request at a time probe it.
        breaker_threshold: Consecutive requests without an answer (or with a
            gateway's 502/503/504) that open the client's circuit breaker (5).
        breaker_probe_interval: Seconds between the breaker's probes while the
            API stays down (1.0, less up to a quarter of jitter): how soon the
            client sees the API back, and how often it knocks meanwhile. See
            docs/reliability.md.
        breaker_wait: Seconds a request other than a watch's poll waits on the
            open circuit breaker before it fails unsent (then until the next
            probe's outcome); ``0`` fails it at once. Defaults to its read
            timeout (30 s). Watches' polls follow ``max_outage`` instead.
        max_requests_per_second: The client's request budget: requests leave
            at least ``1/R`` s apart and never more than ``R`` in any one
            second, whatever their kind. Give your API key's rate limit here
            (or, without ``shared_budget``, divided by the number of
            processes sharing the key). ``None``
            (the default) learns a budget from the server's rate limiting:
            from a ``RateLimit-Policy`` header, or, from 429s without one,
            a little below what the server let through (see docs/retries.md).
            Requests waiting for the budget go by priority: every request
            that is not a watch's poll first, then the polls whose tasks most
            likely finished since they were last seen running, from the
            durations the client learns per family (with or without
            ``learn_durations``).
        shared_budget: Share ``max_requests_per_second`` with every client of
            the same API key, in any process on any machine, through Redis: a
            ``redis://``, ``rediss://`` or ``unix://`` URL, or a
            ``redis.asyncio.Redis`` client of yours (install
            ``camb-async[redis]``; asyncio only). Together they send at most
            ``max_requests_per_second`` requests in any one second, evenly
            paced, and a client with work gets the turns idle ones leave; a
            429/503 pause holds them all. While Redis is away each goes on
            at its fair share (see docs/workers.md).
        transport: What the HTTP client the SDK creates sends through:
            ``"httpx"`` (httpx's own pool, the default) or ``"aiohttp"``
            (an httpx transport over ``aiohttp``, several times cheaper in
            CPU per request; install ``camb-async[aiohttp]``). aiohttp
            runs only on asyncio: under trio the client uses httpx's pool.
            The HTTP client is created on first use, inside the event loop.
        on_event: A function, or a sequence of them, called with each event
            the client reports (:class:`CambEvent`: each request attempt, retry
            and 429/503 pause, each watch's start, status changes and end; see
            docs/observability.md). Hooks run synchronously, in order, on the
            task that made the event; an exception in one is logged and never
            breaks the call. ``with_options()`` clients report to the same hooks.
            Without hooks no event is built. ``camb_async.integrations.opentelemetry``
            turns them into spans.
        realtime_url: Scheme and host of the speech-to-speech server
            (``client.realtime``): defaults to ``CAMB_REALTIME_URL``, then
            ``wss://realtime.camb.ai``; ``ws``/``wss`` are taken as given,
            ``http``/``https`` become them; the SDK appends ``/v1/realtime``.
        live_transcription_url: The whole WebSocket URL of live transcription;
            by default ``base_url``'s, under its path
            (``wss://client.camb.ai/apis/transcription/listen``, the API
            reference's). camb-sdk uses
            ``wss://realtime.camb.ai/streaming-transcription/listen``. Live TTS
            is always ``base_url``'s ``.../live-tts/ws``.

    Raises:
        CambError: No API key was given and ``CAMB_API_KEY`` is not set; or
            ``transport="aiohttp"`` and the ``aiohttp`` extra is not installed
            (that error is also an ``ImportError``).
        ValueError: An option is out of range, both ``http_client`` and
            ``transport="aiohttp"`` were given, or ``shared_budget`` is not a
            Redis URL or was given without ``max_requests_per_second``.
        TypeError: ``on_event`` holds something that is not callable, or
            ``shared_budget`` is neither a URL nor a ``redis.asyncio.Redis``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
        max_concurrent_transfers: int = DEFAULT_MAX_CONCURRENT_TRANSFERS,
        poll_schedule: PollSchedule | None = None,
        watch_timeout: float | None = DEFAULT_WATCH_TIMEOUT,
        learn_durations: bool = False,
        transport: Transport = "httpx",
        max_outage: float | None = None,
        max_requests_per_second: float | None = None,
        shared_budget: SharedBudgetSource | None = None,
        on_event: EventHook | Sequence[EventHook] | None = None,
        retry_backoff: float = INITIAL_RETRY_DELAY,
        max_retry_backoff: float = MAX_RETRY_DELAY,
        breaker_threshold: int = BREAKER_THRESHOLD,
        breaker_probe_interval: float = PROBE_INTERVAL,
        breaker_wait: float | NotGiven = NOT_GIVEN,
        realtime_url: str | None = None,
        live_transcription_url: str | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not api_key or not api_key.strip():
            raise CambError(f"no API key: pass api_key= or set the {API_KEY_ENV} environment variable")
        if not api_key.isascii() or not api_key.isprintable():
            # Named, never shown: a key pasted from a web page may hold a typographic
            # hyphen or a newline, which an HTTP header cannot carry.
            raise CambError(
                "the API key contains non-ASCII or control characters; check how it was copied or read"
            )
        check_int(max_retries, "max_retries", least=0)
        check_int(max_concurrent_requests, "max_concurrent_requests", least=1)
        check_int(max_concurrent_transfers, "max_concurrent_transfers", least=1)
        check_int(breaker_threshold, "breaker_threshold", least=1)
        backoff = check_backoff(retry_backoff, max_retry_backoff)
        check_seconds(breaker_probe_interval, "breaker_probe_interval", positive=True)
        if not isinstance(breaker_wait, NotGiven):
            breaker_wait = check_seconds(breaker_wait, "breaker_wait")
        base = _normalise_base_url(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        urls = live_urls(
            base,
            realtime_url=realtime_url or os.environ.get(REALTIME_URL_ENV) or DEFAULT_REALTIME_URL,
            live_transcription_url=live_transcription_url,
        )
        watch_limit = check_timeout(watch_timeout, "watch_timeout")
        outage_limit = check_outage(max_outage)
        check_rate(max_requests_per_second)
        check_shared_budget(shared_budget, max_requests_per_second)
        emit = emitter(on_event)
        effective_timeout = DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else timeout
        if http_client is not None and isinstance(timeout, NotGiven):
            effective_timeout = http_client.timeout
        headers = {
            "x-api-key": api_key,
            "accept": "application/json",
            "user-agent": f"camb-async/{__version__} python/{platform.python_version()}",
        }
        # What every request passes to httpx beyond method and URL. A client the SDK builds
        # carries the headers and timeout itself; one passed in gets them with each request.
        send_options: dict[str, Any] = {}
        builder: HttpClientBuilder | None = None
        if http_client is None:
            builder = HttpClientBuilder(
                transport,
                timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else timeout,
                in_flight=max_concurrent_requests + max_concurrent_transfers,
            )
        elif transport != "httpx":
            raise ValueError(
                f"transport={transport!r} applies to the HTTP client the SDK creates; with your own "
                "http_client=, give that client the transport instead"
            )
        else:
            send_options["headers"] = headers
            if not isinstance(timeout, NotGiven):
                send_options["timeout"] = timeout
        requester = Requester(
            base_url=base,
            headers=headers,
            http_client=http_client,
            builder=builder,
            send_options=send_options,
            max_retries=max_retries,
            max_concurrent_requests=max_concurrent_requests,
            max_concurrent_transfers=max_concurrent_transfers,
            breaker_wait=breaker_wait_of(effective_timeout)
            if isinstance(breaker_wait, NotGiven)
            else breaker_wait,
            max_requests_per_second=max_requests_per_second,
            shared_budget=shared_budget,
            emit=emit,
            retry_backoff=backoff,
            breaker=(breaker_threshold, float(breaker_probe_interval)),
        )
        weakref.finalize(self, requester.lifecycle.warn_if_open)
        self._timeout = effective_timeout
        self._breaker_wait = breaker_wait
        self._live = (
            LiveEndpoint("live_tts", urls.live_tts, api_key=api_key, emit=emit),
            LiveEndpoint("live_transcription", urls.live_transcription, api_key=api_key, emit=emit),
            LiveEndpoint("realtime", urls.realtime, api_key=api_key, emit=emit),
        )
        self._attach(
            FamilyContext(
                requester=requester,
                schedule=poll_schedule or PollSchedule(),
                watch_timeout=watch_limit,
                durations=DurationModel(),
                learn_schedules=learn_durations,
                max_outage=outage_limit,
            )
        )

    def _attach(self, context: FamilyContext) -> None:
        """Make the family attributes, all over ``context``."""
        requester = context.requester
        self._requester = requester
        self._context = context
        self.tts: TTS = TTS(context)
        self.dubbing: Dubbing = Dubbing(context)
        self.translation: Translation = Translation(context)
        self.transcription: Transcription = Transcription(context)
        self.text_to_sound: TextToSound = TextToSound(context)
        self.text_to_voice: TextToVoice = TextToVoice(context)
        self.audio_separation: AudioSeparation = AudioSeparation(context)
        self.subtitles: Subtitles = Subtitles(context)
        self.story: Story = Story(context)
        self.project_setup: ProjectSetup = ProjectSetup(context)
        self.translated_tts: TranslatedTTS = TranslatedTTS(context)
        self.translated_story: TranslatedStory = TranslatedStory(context)
        self.dubbing_alt_format: DubbingAltFormat = DubbingAltFormat(context)
        self.live_streams: LiveStreams = LiveStreams(context)
        self.voices: Voices = Voices(requester)
        self.languages: Languages = Languages(requester)
        self.folders: Folders = Folders(requester)
        self.dictionaries: Dictionaries = Dictionaries(requester)
        live_tts, live_transcription, realtime = self._live
        self.live_tts: LiveTTS = LiveTTS(live_tts)
        self.live_transcription: LiveTranscription = LiveTranscription(live_transcription)
        self.realtime: Realtime = Realtime(realtime)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        max_outage: float | NotGiven | None = NOT_GIVEN,
        watch_timeout: float | NotGiven | None = NOT_GIVEN,
        poll_schedule: PollSchedule | None = None,
        headers: Mapping[str, str] | None = None,
        retry_backoff: float | NotGiven = NOT_GIVEN,
        max_retry_backoff: float | NotGiven = NOT_GIVEN,
        breaker_wait: float | NotGiven = NOT_GIVEN,
    ) -> AsyncCambClient:
        """A client with other options for some calls, over this client's connection pool.

        ``client.with_options(max_retries=0).tts.status(task_id)``, or one kept
        for a web handler that must answer quickly:
        ``client.with_options(max_outage=0, watch_timeout=20)``. What is not given
        stays as this client has it. The new client shares this one's pool, its
        limit on requests in flight, its 429 pause, its circuit breaker and its
        ``on_event`` hooks, so any number of them cost nothing more. Its live
        sessions (``live_tts``, ``live_transcription``, ``realtime``) connect where
        this client's do. Closing it leaves this client open; closing this client
        closes it too. (The circuit breaker's threshold and probe interval are
        therefore the constructor's alone: one breaker watches the API for the
        client and every client derived from it. How long this client's requests
        wait on it, ``breaker_wait``, is its own.)

        Args:
            timeout: Per-request timeout, as in the constructor.
            max_retries: Retries of a failed request.
            max_outage: How long a watch rides out an outage (``0``: not at all).
            watch_timeout: Default deadline of ``watch()``/``wait()``.
            poll_schedule: Default waits between polls.
            headers: Extra headers for each request (not ``x-api-key``).
            retry_backoff: Seconds before the first retry without a server hint.
            max_retry_backoff: The longest wait between retries without a hint.
            breaker_wait: Seconds a request waits on the open circuit breaker
                (``0``: fail at once), as in the constructor.

        Raises:
            ValueError, TypeError: An option is out of range, or ``headers`` names ``x-api-key``.
        """
        requester = self._requester
        context = self._context
        send_options = dict(requester._send_options)
        effective_timeout = self._timeout
        if not isinstance(timeout, NotGiven):
            send_options["timeout"] = effective_timeout = timeout
        if headers:
            if any(name.lower() == "x-api-key" for name in headers):
                raise ValueError("headers must not set x-api-key: pass api_key= to a new client instead")
            send_options["headers"] = {**send_options.get("headers", {}), **headers}
        if not isinstance(max_retries, NotGiven):
            check_int(max_retries, "max_retries", least=0)
        first, most = requester.retry_backoff
        backoff = check_backoff(
            first if isinstance(retry_backoff, NotGiven) else retry_backoff,
            most if isinstance(max_retry_backoff, NotGiven) else max_retry_backoff,
        )
        wait = (
            self._breaker_wait
            if isinstance(breaker_wait, NotGiven)
            else check_seconds(breaker_wait, "breaker_wait")
        )
        derived = object.__new__(AsyncCambClient)
        derived._timeout = effective_timeout
        derived._breaker_wait = wait
        derived._live = self._live
        derived._attach(
            FamilyContext(
                requester=requester.derive(
                    max_retries=requester.max_retries if isinstance(max_retries, NotGiven) else max_retries,
                    send_options=send_options,
                    breaker_wait=breaker_wait_of(effective_timeout) if isinstance(wait, NotGiven) else wait,
                    retry_backoff=backoff,
                ),
                schedule=poll_schedule or context.schedule,
                watch_timeout=(
                    context.watch_timeout
                    if isinstance(watch_timeout, NotGiven)
                    else check_timeout(watch_timeout, "watch_timeout")
                ),
                durations=context.durations,
                learn_schedules=context.learn_schedules,
                max_outage=(
                    context.max_outage if isinstance(max_outage, NotGiven) else check_outage(max_outage)
                ),
            )
        )
        return derived

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "open"
        return f"<AsyncCambClient base_url={_shown_url(self.base_url)!r} {state}>"

    @property
    def base_url(self) -> str:
        """The API root every path is appended to, without a trailing slash."""
        return self._requester.base_url

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` has been called."""
        return self._requester.lifecycle.closed

    async def __aenter__(self) -> Self:
        if self.is_closed:
            raise ClientClosedError("this AsyncCambClient is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and the HTTP client it created (not one you passed in).

        Watches still running on it end with :class:`ClientClosedError`.
        Calling it again does nothing.

        Raises:
            ClientClosedError: Called from an event loop other than the one the
                client was used on, whose connections cannot be closed from
                here (the client is closed all the same).
        """
        await self._requester.aclose()

    # -- any task, by family -------------------------------------------------------

    def _family(self, family: str) -> TaskResource:
        if family not in FAMILIES:
            raise ValueError(f"unknown task family {family!r}; expected one of {', '.join(FAMILIES)}")
        resource: TaskResource = getattr(self, family)
        return resource

    def _task(self, task: str | TaskHandle, family: TaskFamily | None) -> tuple[TaskResource, str]:
        """The family and id of ``task`` (an id of ``family``, tts by default, or a handle)."""
        if isinstance(task, TaskHandle):
            if family is not None and family != task.family:
                raise ValueError(f"family={family!r} contradicts the handle's family {task.family!r}")
            return self._family(task.family), task.task_id
        return self._family("tts" if family is None else family), task

    async def status(self, task: str | TaskHandle, *, family: TaskFamily | None = None) -> TaskStatus:
        """Fetch a task's current status once: ``client.<family>.status(task_id)``.

        ``task`` is a task id of ``family`` (``"tts"`` by default) or a :class:`TaskHandle`.

        Raises:
            ValueError: ``task`` is not one URL path segment, or ``family`` is unknown.
            APIError: The request failed after every retry (see the error tree).
        """
        resource, task_id = self._task(task, family)
        return await resource.status(task_id)

    def watch(
        self,
        task: str | TaskHandle,
        *,
        family: TaskFamily | None = None,
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> AsyncGenerator[TaskStatus, None]:
        """Follow a task: yield its first status, then each change, ending
        right after the terminal one (SUCCESS, ERROR, TIMEOUT, PAYMENT_REQUIRED).

        ``client.<family>.watch(task_id)``; see :meth:`TaskResource.watch
        <camb_async.TTS.watch>` for ``interval`` and ``timeout``.

        Raises:
            WatchTimeoutError: The deadline passed first (a ``TimeoutError``).
            APIError: A poll failed after every retry.
            ValueError: Bad ``task_id``, ``family``, ``interval`` or ``timeout``
                (raised here, before any request).
        """
        resource, task_id = self._task(task, family)
        return resource.watch(task_id, interval=interval, timeout=timeout)

    async def wait(
        self,
        task: str | TaskHandle,
        *,
        family: TaskFamily | None = None,
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> TaskStatus:
        """Wait for a task to finish; return its SUCCESS status (with ``run_id``).

        ``client.<family>.wait(task_id)``; takes the same arguments as :meth:`watch`.

        Raises:
            TaskFailedError: The task ended with ERROR.
            TaskTimedOutError: The task ended with TIMEOUT.
            TaskPaymentRequiredError: The task ended with PAYMENT_REQUIRED.
            WatchTimeoutError: ``timeout`` passed first.
            APIError: A poll failed after every retry.
        """
        resource, task_id = self._task(task, family)
        # The family's wait(), awaited with one coroutine fewer on each waiting task's stack.
        final, _ = await resource._to_end(task_id, interval, timeout)  # pyright: ignore[reportPrivateUsage]
        return resource._succeeded(task_id, final)  # pyright: ignore[reportPrivateUsage]

    # -- many tasks at once -------------------------------------------------------

    def _deadline(self, timeout: float | NotGiven | None) -> float | None:
        watch_timeout = self._context.watch_timeout
        return watch_timeout if isinstance(timeout, NotGiven) else check_timeout(timeout, "timeout")

    def _track(self, items: Iterable[tuple[K, object]], timeout: float | NotGiven | None) -> TaskWatches[K]:
        """The scheduler of a many-task call over ``(key, task)`` items, on this client's
        request path, outage and hooks."""
        requester = self._requester
        return track(
            items,
            self._family,
            timeout=self._deadline(timeout),
            outage=requester.outage,
            emit=requester.emit,
            in_flight=requester.max_in_flight,
        )

    def watch_many(
        self, tasks: Iterable[T], *, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> TaskWatches[T]:
        """Follow many tasks of any families at once: an async iterator of
        ``(task, status)`` pairs, one per status change of any task, in the order
        seen (a task ending in ERROR yields that status, as :meth:`watch` does).

        ``tasks`` are TTS task ids and :class:`TaskHandle` s; each ``task`` handed
        back is the item exactly as given. A task whose following ends in an
        exception (an error that cannot heal, or the deadline: a
        ``WatchTimeoutError``) gives ``(task, exception)`` as its last pair.
        ``timeout`` is one deadline for the whole call (the client's
        ``watch_timeout`` by default). It ends when every task has ended.

        Polling runs only while the loop waits for its next pair: breaking out
        (or cancelling) stops every poll at once and leaves the client usable.

        Raises:
            TypeError, ValueError: A task is not an id or a handle, or not valid
                (raised here, before any request).
        """
        check_tasks(tasks)
        return self._track(((task, task) for task in tasks), timeout)

    def as_completed(
        self, tasks: Iterable[T], *, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> Completed[T]:
        """Follow many tasks at once: an async iterator of ``(task, outcome)`` as each
        task ends. An outcome is the SUCCESS :class:`TaskStatus`, or the exception the
        task ended with (``TaskFailedError``, ``TaskTimedOutError``,
        ``TaskPaymentRequiredError``, an ``APIError``, or ``WatchTimeoutError`` for a
        task still running at the deadline), as ``asyncio.gather(...,
        return_exceptions=True)`` would give it. Takes what :meth:`watch_many` takes.
        """
        check_tasks(tasks)
        watches = self._track(((task, task) for task in tasks), timeout)
        return Completed(watches, task_id_of, self._requester.api_key)

    async def wait_many(
        self, tasks: Iterable[str | TaskHandle], *, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> list[TaskStatus | Exception]:
        """Wait for many tasks at once; their outcomes (as :meth:`as_completed` gives
        them), in the order of ``tasks``. A failed task never hides the others';
        at the deadline, the tasks still running get a ``WatchTimeoutError``."""
        check_tasks(tasks)
        given = list(tasks)
        watches = self._track(enumerate(given), timeout)
        outcomes: dict[int, TaskStatus | Exception] = {}
        async with Completed(watches, lambda i: task_id_of(given[i]), self._requester.api_key) as ended:
            async for position, outcome in ended:
                outcomes[position] = outcome
        return [outcomes[position] for position in range(len(given))]

    async def download_url(self, url: str, to: Destination, *, progress: Progress | None = None) -> int:
        """Download a result file by its URL (a ``FileUrl.output_url``, a dubbing's
        ``video_url``...) to ``to``, as ``client.tts.download`` does; return the bytes written.
        ``progress`` is called with ``(bytes so far, total or None)`` as there.

        The API key goes only to the API's own host, never to storage.

        Raises:
            ValueError: ``url`` is not an http(s) URL.
            DownloadInterruptedError: The body broke off after every retry.
        """
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"url must be an http(s) URL, got {_shown_url(str(url))!r}")
        return await download(self._requester, str(parsed), to, progress=progress)


def _normalise_base_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:  # not a ValueError: say it as one, like every bad option
        raise ValueError(f"base_url is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {_shown_url(url)!r}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {_shown_url(url)!r}")
    if parsed.scheme == "http" and parsed.host not in ("localhost", "127.0.0.1", "::1"):
        log.warning("base_url %s sends the API key unencrypted; use https", _shown_url(url))
    return url.rstrip("/")


def _shown_url(url: str) -> str:
    """``url`` as the SDK prints it (repr, logs, errors): a user:password part, a query and
    a fragment are replaced by ``[redacted]``, since each may carry a secret."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<an invalid URL>"
    if not (parsed.userinfo or parsed.query or parsed.fragment):
        return url
    shown = str(parsed.copy_with(username=None, password=None, query=None, fragment=None))
    if parsed.userinfo:
        shown = shown.replace("://", "://[redacted]@", 1)
    if parsed.query or parsed.fragment:
        shown += "?[redacted]"
    return shown
