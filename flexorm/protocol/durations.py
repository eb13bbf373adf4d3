"""MySQL's and MariaDB's ``TIME`` values: durations, written as the database writes them.

A MySQL ``TIME`` holds a duration from ``-838:59:59`` to ``838:59:59``, not only a time of day.
Its values are :class:`Duration` objects: a ``timedelta`` whose text, and JSON form in answers,
is ``[-]HH:MM:SS[.ffffff]`` (``100:00:00``, ``-01:30:00``), the form the database shows and the
form its parameters take. A PostgreSQL ``interval`` is a plain ``timedelta``, answered as its
seconds.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["Duration"]


class Duration(dt.timedelta):
    """A ``timedelta`` read from, or written to, a MySQL or MariaDB ``TIME`` column.

    It is a ``timedelta`` in every way but its text: hours are counted past a day (at least
    two digits), the sign comes first, and the fraction shows only when there is one.

    Examples:
        >>> str(Duration(hours=100)), str(Duration(minutes=-90)), str(Duration(seconds=9.5))
        ('100:00:00', '-01:30:00', '00:00:09.500000')
        >>> Duration(hours=1) == dt.timedelta(hours=1)
        True
    """

    __slots__ = ()

    @classmethod
    def of(cls, value: dt.timedelta) -> Duration:
        """``value`` as a :class:`Duration` (itself when it is one)."""
        if isinstance(value, Duration):
            return value
        return cls(days=value.days, seconds=value.seconds, microseconds=value.microseconds)

    def __str__(self) -> str:
        whole = abs(self)
        hours, rest = divmod(whole.days * 86_400 + whole.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        sign = "-" if self.days < 0 else ""
        text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
        return f"{text}.{whole.microseconds:06d}" if whole.microseconds else text
