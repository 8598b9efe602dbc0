"""The weekly report's chart: one PNG, three panels one under the other, for a phone screen.

1. **Layers**: the execution rate at each level of the reader's subtree, from the reader's
   unit down to the people. Each unit is a dot in its level's column, the level's overall rate
   a bar behind them, the weakest unit of each level named; the people's rates are a strip
   with their median. A reader sees at once the level where execution weakens.
2. **Trend**: the rate of each unit one level below the reader over the last 12 weeks.
3. **Blocks**: each of those units' blocks by side of the iron triangle (process, skill,
   other), stacked.

One image rather than an album: it goes out as one ``sendPhoto`` (one outbox row, one
message to pace) and reads top to bottom. 1080 px wide, text at 14 pt and more at 150 dpi,
the Okabe-Ito palette (told apart with every common colour-vision deficiency), every title
and label from the reader's catalogue. Pure: plain data in, PNG bytes out; matplotlib's Agg
backend, no display, no database.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from bot.render import texts

# Okabe & Ito (2008): distinguishable with protanopia, deuteranopia and tritanopia.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
)  # (Okabe-Ito's yellow is left out: too pale for a line on white)
SIDE_COLOURS = {"process": "#0072B2", "skill": "#E69F00", "other": "#999999"}
Text = Callable[..., str]  # a catalogue text by its key under weekly.
WIDTH_PX, HEIGHT_PX, DPI = 1080, 1920, 150  # 9:16, a phone screen
COLOURS = 128  # in the PNG's palette
# a figure printed over the dots: on a white box, above them
LABEL: dict[str, Any] = {
    "fontsize": 14,
    "zorder": 5,
    "bbox": {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
}
TREND_LINES = 7  # units drawn in the trend (the weakest this week when there are more)
BLOCK_BARS = 10  # units in the blocks panel (those with the most blocks)
NAME_CHARS = 18  # characters of a unit name on an axis
# Latin, Cyrillic and Greek from DejaVu; Chinese (and the rest of CJK) from the first CJK
# font installed: matplotlib falls back glyph by glyph along this list.
FONTS = (
    "DejaVu Sans",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
)


@dataclass(frozen=True, slots=True)
class Level:
    """One level of the subtree: its name (e.g. "Workshops"), its overall rate, and each
    unit's (name, rate); a rate is None when nothing was counted."""

    name: str
    rate: float | None
    units: Sequence[tuple[str, float | None]] = ()


@dataclass(frozen=True, slots=True)
class WeeklyChart:
    """What the chart shows, as plain data.

    ``levels``: from the reader's unit down; ``people``: every person's rate in the subtree
    (None left out); ``weeks``: the 12 week labels, oldest first; ``trend``: (unit name,
    12 rates) per unit one level below the reader; ``blocks``: (unit name, process, skill,
    other) per unit one level below the reader."""

    title: str
    levels: Sequence[Level]
    people: Sequence[float] = ()
    weeks: Sequence[str] = ()
    trend: Sequence[tuple[str, Sequence[float | None]]] = ()
    blocks: Sequence[tuple[str, int, int, int]] = field(default_factory=tuple)


def _fonts(wide: bool) -> list[str]:
    """The installed fonts of ``FONTS``; only the first unless ``wide`` (a CJK character to
    draw): every fallback font makes laying out each text slower (15 % of a chart)."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = [name for name in FONTS if name in installed] or ["sans-serif"]
    return found if wide else found[:1]


def _wide(lang: str, chart: WeeklyChart) -> bool:
    """Whether the chart's texts hold a character from the CJK blocks (U+2E80 on)."""
    strings = [chart.title, *(level.name for level in chart.levels)]
    strings += [name for level in chart.levels for name, _ in level.units]
    strings += [name for name, _ in chart.trend] + [block[0] for block in chart.blocks]
    catalogue = texts.catalogue(lang)
    strings += [str(text) for key, text in catalogue.items() if key.startswith("weekly.")]
    return any(ch >= "\u2e80" for text in strings for ch in text)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def render_weekly(lang: str, chart: WeeklyChart) -> bytes:
    """The chart as PNG bytes, its texts in ``lang``."""

    def t(key: str, **params: object) -> str:
        return texts.render(lang, f"weekly.{key}", **params)

    rc: dict[str, Any] = {
        "font.family": _fonts(_wide(lang, chart)),
        "font.size": 14,
        "axes.titlesize": 17,
        "axes.titleweight": "normal",  # the CJK fonts have no bold
        "axes.labelsize": 14,
        "xtick.labelsize": 14,
        "ytick.labelsize": 14,
        "legend.fontsize": 14,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        # Fixed margins, no layout engine: it would draw the figure twice (+60 % time).
        # Unit names sit above their bars, so no margin depends on their length.
        fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
        fig.suptitle(chart.title, fontsize=18, y=0.99)
        left, width = 0.13, 0.84
        layers = fig.add_axes((left, 0.70, width, 0.225))
        trend = fig.add_axes((left, 0.44, width, 0.185))  # its legend below, to 0.33
        blocks = fig.add_axes((left, 0.045, width, 0.245))
        _layers(layers, chart, t)
        _trend(trend, chart, t)
        _blocks(blocks, chart, t)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # type: ignore[no-untyped-call]
    # A palette of 128 colours: a quarter of the bytes of the RGBA PNG matplotlib writes
    # (about 90 KiB, not 340: the row in the outbox stays small) and faster to compress.
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    image = Image.frombuffer("RGBA", canvas.get_width_height(), pixels)
    image = image.convert("RGB").quantize(COLOURS, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _layers(ax: Axes, chart: WeeklyChart, t: Text) -> None:
    ax.set_title(t("layers_title"), loc="left")
    columns = [*chart.levels]
    names = [level.name for level in columns]
    for x, level in enumerate(columns):
        rate = _pct(level.rate)
        if rate is not None:
            ax.bar(x, rate, width=0.6, color="#56B4E9", alpha=0.45, zorder=1)
            ax.text(x, rate + 2, f"{rate:.0f}%", ha="center", va="bottom", **LABEL)
        rated = [(name, r * 100) for name, r in level.units if r is not None]
        if len(rated) > 1 or (rated and x > 0):
            offsets = _spread(len(rated))
            ax.scatter(
                [x + dx for dx in offsets],
                [r for _, r in rated],
                s=60,
                color="#0072B2",
                edgecolor="white",
                zorder=3,
            )
            weakest, low = min(rated, key=lambda item: item[1])
            ax.annotate(
                _short(weakest),
                (x, low),
                xytext=(0, -18),
                textcoords="offset points",
                ha="center",
                fontsize=14,
                color="#D55E00",
            )
    if chart.people:
        x = len(columns)
        names.append(t("people"))
        rates = [r * 100 for r in chart.people]
        ax.scatter(
            [x + dx for dx in _spread(len(rates))],
            rates,
            s=18,
            color="#E69F00",
            alpha=0.7,
            zorder=3,
        )
        median = statistics.median(rates)
        ax.hlines(median, x - 0.3, x + 0.3, color="#000000", linewidth=3, zorder=4)
        ax.text(x, min(median + 2, 104), f"{median:.0f}%", ha="center", va="bottom", **LABEL)
    ax.set_xticks(range(len(names)), [_short(n) for n in names])
    ax.set_ylim(-12, 112)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel(t("rate_axis"))
    ax.grid(axis="y", alpha=0.3)


def _spread(n: int) -> list[float]:
    """Horizontal offsets that set ``n`` dots side by side within a column."""
    if n <= 1:
        return [0.0] * n
    return [-0.25 + 0.5 * i / (n - 1) for i in range(n)]


def _trend(ax: Axes, chart: WeeklyChart, t: Text) -> None:
    ax.set_title(t("trend_title", weeks=len(chart.weeks)), loc="left")
    lines = list(chart.trend)
    if len(lines) > TREND_LINES:  # the weakest in the latest week
        lines.sort(key=lambda line: line[1][-1] if line[1] and line[1][-1] is not None else 2)
        lines = lines[:TREND_LINES]
    markers = "osD^vPX"
    for i, (name, rates) in enumerate(lines):
        ys = [float("nan") if r is None else r * 100 for r in rates]
        ax.plot(
            range(len(ys)),
            ys,
            marker=markers[i % len(markers)],
            markersize=6,
            linewidth=2.5,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=_short(name),
        )
    ax.set_xticks(range(len(chart.weeks)), list(chart.weeks))
    ax.set_ylim(-5, 105)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel(t("rate_axis"))
    ax.grid(axis="y", alpha=0.3)
    if lines:
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.45, -0.12),
            ncols=3,
            frameon=False,
            fontsize=14,
            handlelength=1.5,
            columnspacing=1.0,
        )
    else:
        _empty(ax, t("nothing"))


def _blocks(ax: Axes, chart: WeeklyChart, t: Text) -> None:
    ax.set_title(t("blocks_title"), loc="left")
    bars = sorted(chart.blocks, key=lambda b: -(b[1] + b[2] + b[3]))[:BLOCK_BARS]
    bars.reverse()  # the most blocked on top
    names = [_short(b[0]) for b in bars]
    left = [0] * len(bars)
    for index, side in enumerate(("process", "skill", "other"), start=1):
        counts = [int(b[index]) for b in bars]
        ax.barh(
            range(len(bars)),
            counts,
            height=0.4,
            left=left,
            color=SIDE_COLOURS[side],
            label=t(f"side_{side}"),
            hatch="//" if side == "skill" else None,
            edgecolor="white",
        )
        left = [a + b for a, b in zip(left, counts, strict=True)]
    for y, name in enumerate(names):  # the name above its bar
        ax.text(0, y + 0.22, name, va="bottom", ha="left", fontsize=14)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_ylim(-0.6, max(len(bars), 1) - 0.6 + 0.5)
    ax.set_xlabel(t("blocks_axis"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if bars and any(left):
        ax.legend(loc="lower right", frameon=False, fontsize=14)
    else:
        _empty(ax, t("no_blocks"))


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=14)
