"""The CLI's progress bars: reflection (``inspect``, ``serve``) and a background run being waited
for (``runs show --wait``)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from flexorm.reflection import Progress as ProgressCallback

__all__ = ["RunProgress", "reflection_progress", "run_progress"]

RunProgress = Callable[[int | None, int | None, str], None]
"""Called with a run's progress as the journal holds it: done, total, and a line to show."""


@contextlib.contextmanager
def reflection_progress() -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr, when stderr is a terminal: the collections reflected so far and
    the time spent, then one line with the total and the elapsed time.

    Yields ``None`` (no bar, no line) when stderr is not a terminal, so that logs and pipes get
    no control characters. Nothing is printed when the callback is never called (a start from a
    current reflection cache reads no catalog).
    """
    if not sys.stderr.isatty():
        yield None
        return
    # rich is imported only here: a start without a terminal does not pay for it
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(TextColumn("reflecting"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=True)
    task = bar.add_task("reflect", total=None)
    counted = [0]

    def update(done: int, total: int) -> None:
        counted[0] = total
        bar.update(task, completed=done, total=total)

    started = time.perf_counter()
    with bar:
        yield update
    if counted[0]:
        noun = "collection" if counted[0] == 1 else "collections"
        console.print(f"reflected {counted[0]:,} {noun} in "
                      f"{time.perf_counter() - started:.1f} s", highlight=False)


@contextlib.contextmanager
def run_progress(run_id: int) -> Iterator[RunProgress | None]:
    """A progress bar on stderr for a background run being waited for, when stderr is a
    terminal: done of total (a spinner while the total is unknown), the run's last message and
    the time spent waiting. Yields ``None`` otherwise, like :func:`reflection_progress`."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(SpinnerColumn(), TextColumn(f"run {run_id}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}",
                                                                         markup=False),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task("", total=None)

    def update(done: int | None, total: int | None, line: str) -> None:
        bar.update(task, completed=done or 0, total=total, description=line)

    with bar:
        yield update
