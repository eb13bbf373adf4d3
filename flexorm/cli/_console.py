"""The console that prints tables of data: database names, actions, journal entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when rendering, not at every CLI start
    from rich.console import Console

__all__ = ["data_console"]


def data_console() -> Console:
    """A console on stdout that prints text as it is.

    Names and messages come from databases and clients, and rich would read ``[red]`` or ``[/]``
    in them as markup: shown wrong at best, a ``MarkupError`` at worst. Nor is any of it
    highlighted as if it were code.
    """
    from rich.console import Console

    return Console(markup=False, highlight=False)
