"""The reports' charts draw Japanese with the font the project ships (tools/charts.py)."""

from __future__ import annotations

import warnings

import pytest

from bench import report as bench_report
from insights import report as insights_report
from tools import charts

JAPANESE = "利用者の発言・答えられなかった発言・件数・解決しない"


@pytest.mark.parametrize("make_pyplot", [charts.pyplot, insights_report._pyplot, bench_report._plt], ids=["charts", "insights", "bench"])
def test_chart_text_is_drawn_in_a_font_with_japanese_glyphs(tmp_path, make_pyplot):
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    plt = make_pyplot()
    path = font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"]), fallback_to_default=False)
    font = FT2Font(path)
    missing = [c for c in JAPANESE if c != "・" and not font.get_char_index(ord(c))]
    assert not missing, f"{path} has no glyph for {missing}"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from current font.*")  # matplotlib's warning for boxes
        fig, ax = plt.subplots()
        ax.set_title(JAPANESE)
        ax.bar(["解決した", "解決しない"], [3, 1])
        fig.savefig(tmp_path / "chart.png")
        plt.close(fig)


def test_the_font_is_the_shipped_file_not_a_system_font():
    from matplotlib import font_manager

    plt = charts.pyplot()
    found = font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"]), fallback_to_default=False)
    assert found == charts.japanese_font_path()
