"""Chart geometry and highlighting for the server-rendered pages."""

from __future__ import annotations

from axon.ui.charts import bars, highlight, stacked


def test_bars_scale_per_part_and_never_go_negative() -> None:
    drawn = bars([("lexical", 12.0), ("usage", 0.5), ("boosts", -1.0)], 100, {"usage": 1.0})
    assert [(b.label, b.width) for b in drawn] == [
        ("lexical", 100.0),
        ("usage", 50.0),
        ("boosts", 0.0),
    ]
    assert [b.width for b in bars([("a", 0.0)], 100)] == [0.0]


def test_stacked_segments_fill_the_budget_and_stop_at_its_end() -> None:
    segments = stacked([("code", 300), ("docs", 100), ("errors", 0)], 800, 400)
    assert [(s.label, s.x, s.width) for s in segments] == [
        ("code", 0.0, 150.0),
        ("docs", 150.0, 50.0),
    ]
    over = stacked([("code", 700), ("docs", 300)], 800, 400)
    assert over[-1].x + over[-1].width == 400  # what exceeds the budget is cut
    assert stacked([("code", 10)], 0, 400) == []


def test_highlight_marks_every_occurrence_case_insensitively() -> None:
    runs = highlight("def Parse_Config(): return parse_config", ["parse_config", "parse"])
    assert runs == [
        ("def ", False),
        ("Parse_Config", True),
        ("(): return ", False),
        ("parse_config", True),
    ]
    assert highlight("nothing here", ["absent"]) == [("nothing here", False)]
    assert highlight("text", []) == [("text", False)]
    assert highlight("", ["x"]) == []


def test_highlight_covers_the_text_exactly_once() -> None:
    text = "ab" * 5_000 + "zzz"
    runs = highlight(text, ["a", "zzz", "ab"])
    assert "".join(piece for piece, _ in runs) == text
    assert sum(1 for piece, matched in runs if matched and piece == "ab") == 5_000
    assert runs[-1] == ("zzz", True)
