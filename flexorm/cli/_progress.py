"""The reflection progress bar of the commands that reflect a database (``inspect``, ``serve``)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from flexorm.reflection import Progress as ProgressCallback

__all__ = ["reflection_progress"]


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
