"""One request budget for a fleet of clients, through Redis: ``shared_budget=``.

Every client with the same API key on the same Redis database is one fleet, and
``max_requests_per_second=R`` is then the fleet's budget. The fleet's turns are
spaced ``(1 + GRACE)/R`` apart in Redis time by one Lua script (a GCRA that reserves
instead of refusing): each call reserves the next free turn and answers how
long from now it comes, so clocks of different machines never meet. A client
asks for a turn only when a request of its own waits, one round trip per
request, and its own line (``_budget``) still decides which of its requests
takes it; a client with work to do gets the turns an idle one does not ask for.

The same call keeps the fleet's roll: the clients heard from in the last
``MEMBER_WINDOW`` seconds, each with its R. The fleet goes at the smallest R
(a WARNING says so once when they differ), and the count of clients is each
one's fair share, ``R / clients``, for the time Redis is away. A 429 or 503
that pauses one client pauses the fleet: the pause's end is kept in Redis, and
no turn is reserved before it.

Redis away (refused, hanging past ``CALL_TIMEOUT``, restarted) never fails a
request: the client logs one WARNING, counts the last second as spent at its
fair share and goes on with a local budget of that share, trying Redis again
every ``RETRY_EVERY`` seconds. When Redis answers again (INFO) the client
keeps the fair share as a cap for ``MEMBER_WINDOW`` seconds, until every
client of the fleet has had the time to come back to a Redis that may have
lost its state. Keys derive from a hash of the API key, never the key, and
expire when no client is left.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import uuid
from typing import TYPE_CHECKING, TypeAlias, cast

import anyio

from ._clock import now

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

    from ._budget import RequestBudget

__all__ = [
    "CALL_TIMEOUT",
    "GRACE",
    "MEMBER_WINDOW",
    "RETRY_EVERY",
    "SharedBudget",
    "SharedBudgetSource",
    "check_shared_budget",
    "fleet_prefix",
]

log = logging.getLogger("camb_async.shared_budget")

SharedBudgetSource: TypeAlias = "str | Redis"
"""Where the fleet meets: a ``redis://``, ``rediss://`` or ``unix://`` URL, or a client."""

MEMBER_WINDOW = 5.0
"""Seconds a client counts as one of the fleet after it was last heard from."""
EXPIRY = 15.0
"""Seconds the fleet's keys outlive the last client heard from."""
CALL_TIMEOUT = 0.25
"""The longest one call to Redis may take before the client goes on without it."""
RETRY_EVERY = 1.0
"""Seconds between tries of a Redis that did not answer."""
GRACE = 0.02
"""The most seconds a turn may be taken after its moment; a later one is given up. The fleet's
turns are spaced ``(1 + GRACE) / R`` apart, so that turns taken up to that late still make
at most R in any one second."""
_SCHEMES = ("redis", "rediss", "unix")

# KEYS: the next free turn, the roll (member -> last heard), the rates (member -> R), the
# pause's end; times in microseconds of Redis's clock. ARGV: the member, its R, the roll's
# window (us), the keys' expiry (ms) and the grace of a turn (s). Returns the turn's delay (us), the fleet's size,
# its smallest and largest R, and what is left of a pause (us).
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local expiry = tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%.0f', now - tonumber(ARGV[3])))
for _, member in ipairs(gone) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('HDEL', KEYS[3], member)
end
local low, high = math.huge, 0
for _, value in ipairs(redis.call('HVALS', KEYS[3])) do
  local rate = tonumber(value)
  if rate < low then low = rate end
  if rate > high then high = rate end
end
local pause = tonumber(redis.call('GET', KEYS[4]) or '0')
local turn = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'), pause)
local after = turn + math.ceil(1000000 * (1 + tonumber(ARGV[5])) / low)
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', expiry + math.ceil((after - now) / 1000))
redis.call('PEXPIRE', KEYS[2], expiry)
redis.call('PEXPIRE', KEYS[3], expiry)
return {string.format('%.0f', turn - now), redis.call('ZCARD', KEYS[2]), tostring(low), tostring(high),
        string.format('%.0f', math.max(0, pause - now))}
"""

# KEYS: the pause's end. ARGV: the pause (us), the keys' expiry (ms).
_PAUSE = """
local clock = redis.call('TIME')
local ends = tonumber(clock[1]) * 1000000 + tonumber(clock[2]) + tonumber(ARGV[1])
if ends > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.0f', ends), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + tonumber(ARGV[2]))
end
return 1
"""


def check_shared_budget(source: object, rate: float | None) -> None:
    """Refuse a ``shared_budget`` the client cannot use, before any request."""
    if source is None:
        return
    if rate is None:
        raise ValueError(
            "shared_budget needs max_requests_per_second: the rate limit of the API key "
            "that every client sharing the budget keeps to together"
        )
    if isinstance(source, str):
        scheme = source.partition("://")[0].lower() if "://" in source else ""
        if scheme not in _SCHEMES:
            # The scheme alone: the URL may carry a password.
            shown = f"a {scheme}:// URL" if scheme else "no URL"
            raise ValueError(
                f"shared_budget must be a redis://, rediss:// or unix:// URL or a redis.asyncio.Redis "
                f"client, got {shown}"
            )
        if importlib.util.find_spec("redis") is None:  # imported on first use: a quick creation
            _redis_client_class()
        return
    try:
        client_class: type[Redis] | None = _redis_client_class()
    except ImportError:
        client_class = None
    if client_class is None or not isinstance(source, client_class):
        raise TypeError(
            "shared_budget must be a redis://, rediss:// or unix:// URL or a redis.asyncio.Redis "
            f"client, got {type(source).__name__}"
        )


def fleet_prefix(api_key: str) -> str:
    """The prefix of the fleet's Redis keys: a hash of the API key (never the key itself),
    in braces so that a Redis cluster keeps every key of the fleet on one node."""
    digest = hashlib.blake2b(api_key.encode(), digest_size=16, person=b"camb-async-fleet").hexdigest()
    return f"camb_async:budget:{{{digest}}}:"


def _redis_client_class() -> type[Redis]:
    from ._transport import MissingExtraError

    try:
        from redis.asyncio import Redis
    except ImportError as exc:
        raise MissingExtraError("shared_budget needs redis-py: pip install 'camb-async[redis]'") from exc
    return Redis


def _failures() -> tuple[type[Exception], ...]:
    """What a call to Redis may fail with: it is then away, for the client."""
    import asyncio

    from redis.exceptions import RedisError

    # asyncio's TimeoutError is the built-in one from Python 3.11 on, its own class before.
    return (RedisError, OSError, TimeoutError, asyncio.TimeoutError, ValueError)


class SharedBudget:
    """The fleet's side of one client's budget (see the module docstring): reserves its
    turns, keeps the fleet's pause, and sets the local budget's rate (the fleet's R, or
    the fair share while Redis is away).

    ``calls`` counts the round trips to Redis (each reservation, pause and leave)."""

    def __init__(self, budget: RequestBudget, redis: Redis, api_key: str, *, owns_redis: bool) -> None:
        rate = budget.rate
        assert rate is not None
        self.calls = 0
        self._budget = budget
        self._redis = redis
        self._owns_redis = owns_redis
        prefix = fleet_prefix(api_key)
        self._keys = [f"{prefix}{name}" for name in ("turns", "members", "rates", "pause")]
        self._member = uuid.uuid4().hex
        self._rate = rate  # this client's R
        self._fleet_rate = rate  # the smallest R of the fleet, as last heard
        self._members = 1
        self._down_since: float | None = None
        self._retry_at = -math.inf
        self._cap = math.inf  # the fair share kept while the fleet comes back to Redis...
        self._cap_until = -math.inf  # ... until then
        self._told_rates = False
        self._reserve: AsyncScript = redis.register_script(_RESERVE)
        self._pause: AsyncScript = redis.register_script(_PAUSE)
        self._failures = _failures()

    @classmethod
    def open(cls, source: SharedBudgetSource, api_key: str, budget: RequestBudget) -> SharedBudget:
        """The fleet's side of ``budget``, over a client of its own for a URL (no connection
        is made until the first turn)."""
        if isinstance(source, str):
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            redis = _redis_client_class().from_url(  # pyright: ignore[reportUnknownMemberType]
                source,
                socket_timeout=CALL_TIMEOUT,
                socket_connect_timeout=CALL_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
            return cls(budget, redis, api_key, owns_redis=True)
        return cls(budget, source, api_key, owns_redis=False)

    @property
    def grace(self) -> float:
        return GRACE

    @property
    def share(self) -> float:
        """This client's fair share of the fleet's budget, in requests per second."""
        return min(self._cap, self._fleet_rate / self._members)

    async def turn(self) -> float | None:
        moment = now()
        if self._down_since is not None and moment < self._retry_at:
            return None
        try:
            reply = await self._call(
                self._reserve,
                self._keys,
                [
                    self._member,
                    repr(self._rate),
                    round(MEMBER_WINDOW * 1e6),
                    round(EXPIRY * 1e3),
                    repr(GRACE),
                ],
            )
            delay, members, low, high, paused = _read(reply)
        except self._failures as exc:
            self._lost(exc, moment)
            return None
        heard = now()
        if self._down_since is not None:
            self._returned(heard)
        if heard < self._cap_until:
            members = max(members, self._members)  # the fleet is still coming back
        else:
            self._cap = math.inf
        self._members = members
        self._fleet_rate = low
        if high > low and not self._told_rates:
            self._told_rates = True
            log.warning(
                "clients of this API key give different max_requests_per_second (%g to %g); "
                "they share the smallest, %g",
                low,
                high,
                low,
            )
        self._budget.rate = min(low, self._cap)
        if paused > 0.0:
            self._budget.hold_until(heard + paused)
        return heard + delay

    async def pause(self, seconds: float) -> None:
        if self._down_since is not None:
            return  # the client's own pause holds it; the others find their own 429s
        try:
            await self._call(self._pause, self._keys[3:], [round(seconds * 1e6), round(EXPIRY * 1e3)])
        except self._failures as exc:
            self._lost(exc, now())

    async def aclose(self) -> None:
        """Leave the fleet's roll (so its fair shares grow at once), and close the Redis
        client made from a URL."""
        try:
            if self._down_since is None:
                with anyio.fail_after(CALL_TIMEOUT):
                    self.calls += 1
                    pipe = self._redis.pipeline(transaction=False)
                    pipe.zrem(self._keys[1], self._member)
                    pipe.hdel(self._keys[2], self._member)
                    await pipe.execute()
        except self._failures:
            pass
        finally:
            if self._owns_redis:
                await self._redis.aclose()

    async def _call(self, script: AsyncScript, keys: list[str], args: list[str | int]) -> object:
        self.calls += 1
        with anyio.fail_after(CALL_TIMEOUT):
            reply = await script(keys=keys, args=args)  # pyright: ignore[reportUnknownVariableType]
        return cast("object", reply)

    def _lost(self, exc: Exception, moment: float) -> None:
        """Redis did not answer: go on a local budget of the fair share (said once)."""
        self._retry_at = moment + RETRY_EVERY
        if self._down_since is not None:
            return
        self._down_since = moment
        share = self.share
        log.warning(
            "shared budget: Redis did not answer (%s); going on with a local budget of %.3g "
            "requests/s (the fair share of %g among %d clients) and trying Redis again every %g s",
            type(exc).__name__,
            share,
            self._fleet_rate,
            self._members,
            RETRY_EVERY,
        )
        self._budget.assume_spent(share)
        self._budget.rate = share

    def _returned(self, moment: float) -> None:
        """Redis answers again: back on the fleet's turns, with the fair share as a cap until
        the fleet has come back (a restarted Redis knows none of it)."""
        assert self._down_since is not None
        self._cap = self.share
        self._cap_until = moment + MEMBER_WINDOW
        log.info(
            "shared budget: Redis answers again after %.1f s; back on the fleet's budget "
            "(at most %.3g requests/s for %g s while the fleet comes back)",
            moment - self._down_since,
            self._cap,
            MEMBER_WINDOW,
        )
        self._down_since = None


def _read(reply: object) -> tuple[float, int, float, float, float]:
    """The reservation script's answer: the turn's delay (s), the fleet's size, its
    smallest and largest R, and what is left of a pause (s). ``ValueError`` if it is not one."""
    try:
        delay, members, low, high, paused = [_text(value) for value in cast("list[object]", reply)]
        rates = float(low), float(high)
        read = int(delay) / 1e6, max(1, int(members)), rates[0], rates[1], int(paused) / 1e6
    except (TypeError, ValueError):
        read = None
    if read is None or not 0.0 < read[2] <= read[3] < math.inf:
        raise ValueError("the budget script sent back something else")
    return read


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str | int):
        return str(value)
    raise TypeError(type(value).__name__)
