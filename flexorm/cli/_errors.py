"""How CLI commands report failures: one line on stderr, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from flexorm.exceptions import FlexormError, ValidationError, first_line

__all__ = ["fail", "one_line_errors"]


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


@contextmanager
def one_line_errors(code: int, *, failures_of: str | None = None) -> Iterator[None]:
    """Turn flexorm, database and import errors into ``Error: ...`` and exit ``code``.

    A :class:`ValidationError` prints one line per field.

    Args:
        code: the exit status.
        failures_of: also report any other exception, as a failure of this (``"the action"``).
    """
    try:
        yield
    except ValidationError as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"Error: {field}: {message}", err=True)
        raise SystemExit(code) from None
    except FlexormError as exc:
        fail(exc.message, code)
    except SQLAlchemyError as exc:
        fail(f"database error: {first_line(exc, type(exc).__name__)}", code)
    except (OSError, ImportError) as exc:
        fail(first_line(exc, type(exc).__name__), code)
    except Exception as exc:
        if failures_of is None:
            raise
        name = type(exc).__name__
        fail(f"{failures_of} failed: {name}: {first_line(exc, name)}", code)
