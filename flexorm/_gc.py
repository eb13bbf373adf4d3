"""Pausing the cyclic garbage collector while many objects are created that stay alive.

Reflection (hundreds of thousands of records) and bulk actions (every selected row, held until
the transaction ends) create objects that are not garbage; the collector's repeated full passes
over them are wasted work. Python frees acyclic garbage by reference counting meanwhile.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block.

    At 1,000 tables the collector's passes cost reflection a third of its time. It runs again
    afterwards (and is left alone when it was already off, by the user or an outer block).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
