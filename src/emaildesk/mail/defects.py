"""The parser's bounded record of what it repaired or guessed in one message.

Every repair is worth a line (an operator looking at a garbled message wants to know that the
charset was a guess), but a hostile message can produce one problem per address or per part, so
the log keeps the first `MAX_DEFECTS` distinct entries and counts the rest.
"""

from __future__ import annotations

MAX_DEFECTS = 100
MAX_QUOTED_CHARS = 60  # how much of a hostile value a defect line repeats


def quoted(value: str) -> str:
    """A value as it may appear inside a defect line: short, and `repr` so that control
    characters, NULs and lone surrogates are escaped rather than copied."""
    if len(value) > MAX_QUOTED_CHARS:
        return repr(value[:MAX_QUOTED_CHARS]) + "..."
    return repr(value)


class DefectLog:
    def __init__(self, limit: int = MAX_DEFECTS) -> None:
        self._limit = limit
        self._items: list[str] = []
        self._seen: set[str] = set()
        self._dropped = 0

    def add(self, text: str) -> None:
        # Defect lines are stored too: no NUL, no lone surrogate, whatever a caller put in.
        text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
        if text in self._seen:
            return
        if len(self._items) >= self._limit:
            self._dropped += 1
            return
        self._seen.add(text)
        self._items.append(text)

    def as_list(self) -> list[str]:
        if self._dropped:
            return [*self._items, f"{self._dropped} further defects not listed"]
        return list(self._items)
