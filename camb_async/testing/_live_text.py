"""How the simulator "hears" audio: its bytes read as ASCII text, words and utterances.

Live transcription and realtime share it. Printable ASCII bytes make words;
any other byte (a space, a newline, PCM silence) separates them; a ``.``
ends the word it follows and the utterance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Heard", "Listener"]


class Heard(NamedTuple):
    """One step of what was heard: the utterance's words so far; ``final`` when it ended."""

    words: tuple[str, ...]
    final: bool


class Listener:
    """Turns audio bytes into :class:`Heard` steps: one per word, one per utterance end."""

    def __init__(self) -> None:
        self._words: list[str] = []
        self._pending = ""

    @property
    def busy(self) -> bool:
        """Whether anything heard is not final yet."""
        return bool(self._words or self._pending)

    def feed(self, audio: bytes) -> Iterator[Heard]:
        """The steps ``audio`` completes."""
        for char in audio.decode("latin-1"):
            if char == ".":
                self._pending += char
                yield from self.flush()
            elif "!" <= char <= "~":
                self._pending += char
            elif self._pending:
                yield self._word()

    def flush(self) -> Iterator[Heard]:
        """End the pending word and the utterance (nothing if nothing is pending)."""
        if self._pending:
            yield self._word()
        if self._words:
            words, self._words = tuple(self._words), []
            yield Heard(words, final=True)

    def _word(self) -> Heard:
        self._words.append(self._pending)
        self._pending = ""
        return Heard(tuple(self._words), final=False)
