"""Plain page lines for the stage tests: text set at a position, words boxed as a PDF reader
boxes them (a fixed advance per character), so a stage runs without any document."""

from __future__ import annotations

from collections.abc import Sequence

from lamina.engine.layout import Line

ADVANCE = 0.5  # a character's width, times the font size


def line(text: str, x0: float, top: float, size: float = 10.0, **flags: bool) -> Line:
    """One line of ``text`` starting at ``x0``; words a space apart."""
    return cells([(text, x0)], top, size, **flags)


def cells(
    parts: Sequence[tuple[str, float]], top: float, size: float = 10.0, **flags: bool
) -> Line:
    """One line made of pieces of text each starting at its own ``x0`` (cells of a row)."""
    words: list[tuple[str, float, float]] = []
    for text, x in parts:
        for word in text.split(" "):
            if word:
                words.append((word, x, x + len(word) * size * ADVANCE))
            x += (len(word) + 1) * size * ADVANCE
    text = "   ".join(t for t, _ in parts)
    return Line(
        text,
        x0=words[0][1],
        top=top,
        x1=words[-1][2],
        bottom=top + size,
        baseline=top + 0.8 * size,
        size=size,
        words=words,
        **flags,
    )


def texts(lines: Sequence[Line]) -> list[str]:
    return [ln.text for ln in lines]
