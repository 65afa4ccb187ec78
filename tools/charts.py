"""Matplotlib for the reports' charts, with a Japanese font that ships with the project.

The insight report and the benchmark charts label axes in Japanese. A system font
(fonts-noto-cjk) may be missing, or installed after matplotlib built its font cache,
and then every label is drawn as empty boxes. matplotlib-fontja (PyPI) ships
IPAexGothic; its file is registered here explicitly, so charts read the same on any
machine, with no system font and no cache involved.
"""

from __future__ import annotations

from typing import Any


def japanese_font_path() -> str:
    from matplotlib_fontja import get_font_ttf_path

    return get_font_ttf_path()


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, drawing text in the shipped Japanese font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    path = japanese_font_path()
    font_manager.fontManager.addfont(path)
    plt.rcParams["font.family"] = [font_manager.FontProperties(fname=path).get_name()]
    plt.rcParams["axes.unicode_minus"] = False  # the font's minus sign, not U+2212
    return plt
