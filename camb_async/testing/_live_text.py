"""How the simulator "hears" audio: its bytes read as ASCII text, words and utterances.

Live transcription and realtime share it. Printable ASCII bytes make words;
any other byte (a space, a newline, PCM silence) separates them; a ``.``
ends the word it follows and the utterance, as does an utterance's last word
(``LiveSettings.utterance_words``, 32 by default).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Heard", "Listener"]

_PIECES = re.compile(rb"([!-\-/-~]+)|(\.)|[^!-~]+")
"""A run of word bytes (printable ASCII but "."), a ".", or a run of separators."""


class Heard(NamedTuple):
    """One step of what was heard: the utterance's words so far; ``final`` when it ended."""

    words: tuple[str, ...]
    final: bool


class Listener:
    """Turns audio bytes into :class:`Heard` steps: one per word, one per utterance end.

    An utterance also ends after ``max_words`` words, so that its cumulative steps stay
    small whatever the audio (PCM read as text has no "." for a long while).
    """

    def __init__(self, max_words: int = 32) -> None:
        self._max_words = max_words
        self._words: list[str] = []
        self._pending = ""

    @property
    def busy(self) -> bool:
        """Whether anything heard is not final yet."""
        return bool(self._words or self._pending)

    def feed(self, audio: bytes) -> Iterator[Heard]:
        """The steps ``audio`` completes."""
        for word, dot in _PIECES.findall(audio):  # a match per run, not per byte: silence is cheap
            if word:
                self._pending += word.decode("ascii")
            elif dot:
                if self._pending:
                    self._pending += "."
                yield from self.flush()
            elif self._pending:
                yield from self._word()

    def flush(self) -> Iterator[Heard]:
        """End the pending word and the utterance (nothing if nothing is pending)."""
        if self._pending:
            yield from self._word()
        if self._words:
            words, self._words = tuple(self._words), []
            yield Heard(words, final=True)

    def _word(self) -> Iterator[Heard]:
        self._words.append(self._pending)
        self._pending = ""
        yield Heard(tuple(self._words), final=False)
        if len(self._words) >= self._max_words:
            yield from self.flush()
