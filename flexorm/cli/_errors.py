"""How CLI commands report failures: one line on stderr, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from flexorm.exceptions import FlexormError, ValidationError

__all__ = ["fail", "one_line_errors"]


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


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
        fail(f"database error: {_first_line(exc)}", code)
    except (OSError, ImportError) as exc:
        fail(_first_line(exc), code)
    except Exception as exc:
        if failures_of is None:
            raise
        fail(f"{failures_of} failed: {type(exc).__name__}: {_first_line(exc)}", code)
