"""Labels of the server-drawn charts wrap on lines instead of being cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.web.dashboard import charts
from app.web.svg_text import centred_lines, line_offsets, text_width, wrap


def test_wrap_breaks_between_words() -> None:
    assert wrap("École de la 2e chance du Territoire de Belfort", 20) == [
        "École de la 2e",
        "chance du Territoire",
        "de Belfort",
    ]
    assert wrap("Court", 20) == ["Court"]
    assert wrap("", 20) == [""]


def test_a_word_longer_than_a_line_is_broken_after_its_hyphen() -> None:
    assert wrap("Saint-Jean-de-Luz-sur-Mer", 12) == ["Saint-Jean-", "de-Luz-sur-", "Mer"]
    assert wrap("Anticonstitutionnellement", 10) == ["Anticonsti", "tutionnell", "ement"]


def test_too_many_lines_end_with_an_ellipsis() -> None:
    lines = wrap("un deux trois quatre cinq six sept huit neuf dix", 10, max_lines=2)
    assert len(lines) == 2
    assert lines[-1].endswith("…")
    assert all(len(line) <= 10 for line in lines)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120), st.integers(2, 40))
def test_wrap_keeps_every_word_within_the_line(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert all(len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_lines_are_centred_on_the_single_line() -> None:
    assert line_offsets(1, 12) == [0.0]
    assert line_offsets(2, 12) == [-6.0, 6.0]
    assert [dy for dy, _line in centred_lines("a b c", 1, 10)] == [-10.0, 0.0, 10.0]


def test_a_long_decline_reason_is_wrapped_in_the_dashboard_bars_not_cut() -> None:
    """'Déjà accompagnée par ailleurs' was drawn past the left edge ("éjà accompagnée...")."""
    lines = charts.label_lines("Déjà accompagnée par ailleurs")
    assert [line for _dy, line in lines] == ["Déjà accompagnée par", "ailleurs"]
    # Right-aligned at label_width - 8: every line fits between 0 and there.
    longest = "École de la deuxième chance du Territoire de Belfort"
    for _dy, line in charts.label_lines(longest):
        assert text_width(line, 13) <= charts.LABEL_WIDTH - 8
