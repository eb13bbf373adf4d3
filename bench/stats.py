"""Timing helpers: medians of repeated runs, with their spread."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """Repeated measurements of one thing (seconds, or any unit)."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the runs were."""
        return (max(self.values) - min(self.values)) / self.median if self.median else 0.0

    def ratio_to(self, other: Sample) -> float:
        """The median of the ratios of paired runs (this one's i-th over ``other``'s i-th):
        contenders run back to back in each round share that round's load, so each round's
        ratio holds when the machine's speed drifts between rounds."""
        return statistics.median(a / b for a, b in zip(self.values, other.values, strict=True))

    def as_json(self) -> dict[str, object]:
        return {"median": self.median, "min": min(self.values), "max": max(self.values),
                "runs": list(self.values)}


def timed(run: Callable[[], object], repeat: int, warmup: int = 1) -> Sample:
    for _ in range(warmup):
        run()
    values = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        values.append(time.perf_counter() - start)
    return Sample(tuple(values))


def paired(
    runs: dict[str, Callable[[], object]], repeat: int, warmup: int = 1
) -> dict[str, Sample]:
    """Time several contenders in alternation (A B A B ...), so that load from other processes
    on the machine falls on all of them alike."""
    for run in runs.values():
        for _ in range(warmup):
            run()
    values: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            values[name].append(time.perf_counter() - start)
    return {name: Sample(tuple(v)) for name, v in values.items()}
