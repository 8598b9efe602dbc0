"""Time to render one weekly chart (bot/render/charts.py). Target: under 300 ms.

The chart of a workshop head in a plant of 10,000 people: the plant, 10 workshops, 100 teams
and 1,000 people's rates in the layer panel, 10 workshops over 12 weeks in the trend, their
blocks by side. Rendered ``--repeat`` times per language after one warm-up (the first render
in a process loads the fonts): wall time and the process's CPU (``time.process_time``: the
machine's other load left out), median and worst. Prints the PNG's size too: it travels
base64 in an outbox row.

    .venv/bin/python bench/chart.py               # en, ru, zh-Hans; 10 renders each
    .venv/bin/python bench/chart.py --repeat 3 --lang de
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bot.render.charts import Level, WeeklyChart, render_weekly

TARGET = 0.300  # seconds per chart


def chart(seed: int = 7) -> WeeklyChart:
    rng = random.Random(seed)
    shops = [(f"Workshop {i + 1}", rng.uniform(0.6, 0.95)) for i in range(10)]
    teams = [(f"Team {i + 1}", rng.uniform(0.3, 1.0)) for i in range(100)]
    return WeeklyChart(
        title="Plant: week 47",
        levels=[
            Level("Plant", 0.82, [("Plant", 0.82)]),
            Level("Level 2", 0.8, shops),
            Level("Level 3", 0.75, teams),
        ],
        people=[rng.random() for _ in range(1000)],
        weeks=[str(w) for w in range(36, 48)],
        trend=[(name, [rng.uniform(0.5, 1.0) for _ in range(12)]) for name, _ in shops],
        blocks=[
            (name, rng.randint(0, 9), rng.randint(0, 5), rng.randint(0, 3)) for name, _ in shops
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--lang", action="append", help="languages (default en, ru, zh-Hans)")
    args = parser.parse_args()
    data = chart()
    started = time.perf_counter()
    render_weekly("en", data)
    print(f"first render in the process (fonts loaded): {time.perf_counter() - started:.3f} s")
    missed = False
    for lang in args.lang or ["en", "ru", "zh-Hans"]:
        walls, cpus, size = [], [], 0
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            size = len(render_weekly(lang, data))
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        median = statistics.median(cpus)
        missed |= median >= TARGET
        print(
            f"{lang:8} wall median {statistics.median(walls) * 1000:4.0f} ms, "
            f"worst {max(walls) * 1000:4.0f} ms; CPU median {median * 1000:4.0f} ms, "
            f"worst {max(cpus) * 1000:4.0f} ms; PNG {size / 1024:.0f} KiB"
        )
    print("TARGET MISSED (300 ms of CPU per chart)" if missed else "target met: < 300 ms")


if __name__ == "__main__":
    main()
