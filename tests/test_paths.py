"""Task ids and run ids become exactly one safe URL path segment, or are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from camb_async._paths import FAMILIES, result_path, status_path, validate_task_id

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
def test_status_path_refuses(task_id: object, error: type[Exception], message: str) -> None:
    """status_path refuses the same ids as validate_task_id, before building any path."""
    with pytest.raises(error, match=message):
        status_path("tts", task_id)


@pytest.mark.parametrize("task_id", ["abc", "a b", "x" * 512, "...", "%2e%2e", "ü", " lead"])
def test_validate_task_id_returns_accepted_id_unchanged(task_id: str) -> None:
    """An accepted id (up to 512 characters) is returned as given."""
    assert validate_task_id(task_id) == task_id


@pytest.mark.parametrize(
    ("task_id", "path"),
    [
        ("abc-123", "/tts/abc-123"),
        ("a b", "/tts/a%20b"),
        ("%2e%2e", "/tts/%252e%252e"),
        ("ü", "/tts/%C3%BC"),
        ("a;b=c&d", "/tts/a%3Bb%3Dc%26d"),
        ("a:b@c", "/tts/a%3Ab%40c"),
        ("...", "/tts/..."),
    ],
)
def test_status_path_percent_encodes_into_one_segment(task_id: str, path: str) -> None:
    """An accepted id is percent-encoded into exactly one path segment."""
    built = status_path("tts", task_id)
    assert built == path
    assert built.count("/") == 2


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_status_path_for_every_family(family: str) -> None:
    """Every known family builds /{family}/{task_id}."""
    assert status_path(family, "abc") == f"/{family}/abc"


def test_families_are_the_documented_ones() -> None:
    """FAMILIES lists exactly the CAMB.AI task families."""
    assert sorted(FAMILIES) == [
        "audio-separation",
        "dub",
        "project-setup",
        "story",
        "sub",
        "text-to-sound",
        "text-to-voice",
        "transcribe",
        "translate",
        "translated-tts",
        "tts",
    ]


@pytest.mark.parametrize("family", ["tts/..", "TTS", "", "voices", "../tts"])
def test_status_path_refuses_unknown_family(family: str) -> None:
    """An unknown task family is refused with ValueError naming it."""
    with pytest.raises(ValueError, match="unknown task family"):
        status_path(family, "abc")


@pytest.mark.parametrize(("run_id", "path"), [(0, "/tts-result/0"), (42, "/tts-result/42")])
def test_result_path_accepts_non_negative_int(run_id: int, path: str) -> None:
    """A non-negative int run id builds /tts-result/{run_id}."""
    assert result_path(run_id) == path


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
def test_result_path_refuses(run_id: object, error: type[Exception], message: str) -> None:
    """result_path refuses bools, non-ints and negative numbers."""
    with pytest.raises(error, match=message):
        result_path(run_id)


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


def test_result_path_uses_the_int_value_not_what_a_subclass_prints() -> None:
    """An int subclass that prints as a path traversal still builds /tts-result/{digits}."""
    assert result_path(_PrintsAsTraversal(3)) == "/tts-result/3"
    assert result_path(2**1024 - 1).startswith("/tts-result/1797693")


def test_status_path_checks_and_encodes_the_plain_string_value() -> None:
    """A str subclass whose methods lie is checked and encoded by its real characters."""
    with pytest.raises(ValueError, match="contains '/'"):
        status_path("tts", _LyingStr("a/../b"))
    built = status_path("tts", _LyingStr("a b"))
    assert built == "/tts/a%20b"
    assert type(validate_task_id(_LyingStr("abc"))) is str
