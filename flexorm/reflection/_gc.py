"""Pausing the cyclic garbage collector around bulk allocation of long-lived objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while reflection allocates its many small objects.

    Reflection creates hundreds of thousands of long-lived objects and no cycles worth
    collecting; the collector's repeated full passes over them cost a third of the time at
    1,000 tables. It runs again afterwards (and is left alone when it was already off).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
