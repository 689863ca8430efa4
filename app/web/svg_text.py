"""Text in server-drawn SVG: labels wrapped on a few lines (``<tspan>``s) instead of being cut,
and a rough measure of the room a text takes. Used by the pathway chart (lane labels, legend)
and the dashboard's bar charts (row labels).

SVG text does not wrap by itself and the server does not know the browser's fonts: widths
are estimated from the number of characters (``CHAR_EM`` of the font size each, a little
more than the average of a sans-serif font's letters, so that estimates err on the wide side).
"""

from __future__ import annotations

CHAR_EM = 0.56
ELLIPSIS = "…"


def text_width(text: str, size: float) -> float:
    """The estimated width of ``text`` at font size ``size``, in the same units."""
    return len(text) * size * CHAR_EM


def chars_for(width: float, size: float) -> int:
    """How many characters fit in ``width`` at font size ``size`` (at least one)."""
    return max(int(width / (size * CHAR_EM)), 1)


def wrap(text: str, max_chars: int, max_lines: int | None = None) -> list[str]:
    """``text`` on lines of at most ``max_chars`` characters, broken between words (a word
    longer than a line is broken inside, after a hyphen when it has one). With ``max_lines``,
    a text that needs more lines ends its last line with an ellipsis (the full text then
    belongs in a ``<title>``). Never an empty list."""
    max_chars = max(max_chars, 2)
    lines: list[str] = []
    current = ""
    for word in text.split():
        for piece in _pieces(word, max_chars):
            if not current:
                current = piece
            elif len(current) + 1 + len(piece) <= max_chars:
                current = f"{current} {piece}"
            else:
                lines.append(current)
                current = piece
    if current or not lines:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[: max(max_lines, 1)]
        last = kept[-1]
        kept[-1] = (last[: max_chars - 1].rstrip() if len(last) >= max_chars else last) + ELLIPSIS
        return kept
    return lines


def _pieces(word: str, max_chars: int) -> list[str]:
    """A word cut into pieces no longer than a line (after a hyphen when there is one)."""
    pieces = []
    while len(word) > max_chars:
        cut = word.rfind("-", 1, max_chars) + 1 or max_chars
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word] if word else pieces


def line_offsets(count: int, line_height: float) -> list[float]:
    """The baseline offsets of ``count`` lines centred on a point: add them to the baseline
    a single line would have there."""
    first = -(count - 1) * line_height / 2
    return [round(first + n * line_height, 1) for n in range(count)]


def centred_lines(
    text: str, max_chars: int, line_height: float, max_lines: int | None = None
) -> list[tuple[float, str]]:
    """``wrap(text, ...)`` with each line's baseline offset from a single line's baseline, so
    that the block of lines is centred where the single line would be."""
    lines = wrap(text, max_chars, max_lines)
    return list(zip(line_offsets(len(lines), line_height), lines, strict=True))
