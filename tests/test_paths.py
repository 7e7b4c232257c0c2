"""Task ids and run ids become exactly one safe URL path segment, or are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from camb_async._paths import path_segment, run_id_segment, task_id_segment, validate_task_id

if TYPE_CHECKING:
    from collections.abc import Iterator

REFUSED_IDS: list[tuple[object, type[Exception], str]] = [
    ("", ValueError, "empty or blank"),
    ("   ", ValueError, "empty or blank"),
    ("\n", ValueError, "empty or blank"),
    ("\t \r", ValueError, "empty or blank"),
    (".", ValueError, "another URL"),
    ("..", ValueError, "another URL"),
    ("a/b", ValueError, "contains '/'"),
    ("/", ValueError, "contains '/'"),
    ("a?b", ValueError, "contains '?'"),
    ("a#b", ValueError, "contains '#'"),
    ("a\\b", ValueError, r"contains '\\\\'"),
    ("a\nb", ValueError, r"contains '\\n'"),
    ("\x00", ValueError, r"contains '\\x00'"),
    ("ab\x7f", ValueError, r"contains '\\x7f'"),
    ("a\u2028b", ValueError, "one URL path segment"),
    ("x" * 513, ValueError, "longer than 512"),
    (123, TypeError, "must be a str, not int"),
    (None, TypeError, "must be a str, not NoneType"),
    (b"abc", TypeError, "must be a str, not bytes"),
]


@pytest.mark.parametrize(("task_id", "error", "message"), REFUSED_IDS)
def test_validate_task_id_refuses(task_id: object, error: type[Exception], message: str) -> None:
    """validate_task_id refuses ids that are not one usable path segment, with a clear message."""
    with pytest.raises(error, match=message):
        validate_task_id(task_id)


@pytest.mark.parametrize(("task_id", "error", "message"), REFUSED_IDS)
def test_task_id_segment_refuses(task_id: object, error: type[Exception], message: str) -> None:
    """task_id_segment refuses the same ids as validate_task_id, before building any path."""
    with pytest.raises(error, match=message):
        task_id_segment(task_id)


@pytest.mark.parametrize("task_id", ["abc", "a b", "x" * 512, "...", "%2e%2e", "ü", " lead"])
def test_validate_task_id_returns_accepted_id_unchanged(task_id: str) -> None:
    """An accepted id (up to 512 characters) is returned as given."""
    assert validate_task_id(task_id) == task_id


@pytest.mark.parametrize(
    ("task_id", "segment"),
    [
        ("abc-123", "abc-123"),
        ("a b", "a%20b"),
        ("%2e%2e", "%252e%252e"),
        ("ü", "%C3%BC"),
        ("a;b=c&d", "a%3Bb%3Dc%26d"),
        ("a:b@c", "a%3Ab%40c"),
        ("...", "..."),
    ],
)
def test_task_id_segment_percent_encodes_into_one_segment(task_id: str, segment: str) -> None:
    """An accepted id is percent-encoded into exactly one path segment."""
    built = task_id_segment(task_id)
    assert built == segment
    assert "/" not in built


@pytest.mark.parametrize(
    ("value", "segment"), [(1, "1"), ("en-us", "en-us"), ("zh cn", "zh%20cn"), ("ü", "%C3%BC")]
)
def test_path_segment_accepts_ids_and_locales(value: int | str, segment: str) -> None:
    """A language given as an int id or a locale string becomes one encoded segment."""
    assert path_segment(value, "language") == segment


@pytest.mark.parametrize(
    ("value", "error"),
    [("", ValueError), ("..", ValueError), ("a/b", ValueError), (1.5, TypeError), (-1, ValueError)],
)
def test_path_segment_refuses_what_could_reach_another_url(value: object, error: type[Exception]) -> None:
    """A language that is blank, a dot segment, holds a slash, or is no int/str is refused, naming it."""
    with pytest.raises(error, match="language"):
        path_segment(value, "language")


@pytest.mark.parametrize(("run_id", "segment"), [(0, "0"), (42, "42")])
def test_run_id_segment_accepts_non_negative_int(run_id: int, segment: str) -> None:
    """A non-negative int run id becomes its digits."""
    assert run_id_segment(run_id) == segment


@pytest.mark.parametrize(
    ("run_id", "error", "message"),
    [
        (True, TypeError, "must be an int, not bool"),
        (False, TypeError, "must be an int, not bool"),
        ("42", TypeError, "must be an int, not str"),
        (4.0, TypeError, "must be an int, not float"),
        (None, TypeError, "must be an int, not NoneType"),
        (-1, ValueError, "must not be negative, got -1"),
        (2**1024, ValueError, r"out of range \(1025 bits, at most 1024\)"),
        # Too many digits to print at all (pytest could not even name the case).
        pytest.param(10**5000, ValueError, "out of range", id="10**5000"),
        pytest.param(-(10**5000), ValueError, "out of range", id="-10**5000"),
    ],
)
def test_run_id_segment_refuses(run_id: object, error: type[Exception], message: str) -> None:
    """run_id_segment refuses bools, non-ints and negative numbers."""
    with pytest.raises(error, match=message):
        run_id_segment(run_id)


class _PrintsAsTraversal(int):
    def __str__(self) -> str:
        return "1/../../admin"

    def __format__(self, spec: str) -> str:
        return "1/../../admin"


class _LyingStr(str):
    def strip(self, chars: str | None = None) -> str:
        return "ok"

    def __iter__(self) -> Iterator[str]:
        return iter("ok")

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b".."


def test_run_id_segment_uses_the_int_value_not_what_a_subclass_prints() -> None:
    """An int subclass that prints as a path traversal still becomes its digits."""
    assert run_id_segment(_PrintsAsTraversal(3)) == "3"
    assert run_id_segment(2**1024 - 1).startswith("1797693")


def test_task_id_segment_checks_and_encodes_the_plain_string_value() -> None:
    """A str subclass whose methods lie is checked and encoded by its real characters."""
    with pytest.raises(ValueError, match="contains '/'"):
        task_id_segment(_LyingStr("a/../b"))
    built = task_id_segment(_LyingStr("a b"))
    assert built == "a%20b"
    assert type(validate_task_id(_LyingStr("abc"))) is str
