"""Markers a developer writes in action signatures: collection references, column references, Text.

These are schema-free: they only name things. The action service resolves them against the
reflected schema when it binds the actions at startup.

Examples:
    >>> from typing import Annotated
    >>> Account = ModelRef("accounts")
    >>> def transfer(account_from: Account, note: Text | None = None) -> None: ...
    >>> def set_status(status: Annotated[str, ColumnRef.parse("orders.status")]) -> None: ...
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, NewType

from flexorm.exceptions import ConfigurationError

__all__ = ["TEXT_MARKERS", "Code", "ColumnRef", "ModelRef", "Param", "Sql", "Text",
           "Translatable"]

Text = NewType("Text", str)
"""A ``str`` shown as a multi-line ``TextField`` instead of a one-line ``CharField``."""

Translatable = NewType("Translatable", str)
"""A ``str`` shown as a ``TranslatableField``: text the user may give per language in Jet
Admin (which sends the text to use)."""

Sql = NewType("Sql", str)
"""A ``str`` shown as a ``SqlField`` (a SQL editor). flexorm never runs it: what the body does
with it is the body's business. A blank query is refused."""

Code = NewType("Code", str)
"""A ``str`` shown as a ``CodeField`` (a code editor, line breaks kept as sent)."""

TEXT_MARKERS: dict[Any, str] = {Text: "TextField", Translatable: "TranslatableField",
                                Sql: "SqlField", Code: "CodeField"}
"""The text markers and the Jet field each is shown as."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A reference to a reflected collection, usable as a parameter type (a ``ForeignKey``).

    The action body receives the loaded row of that collection. ``ModelRef`` objects work in
    annotations, ``Optional[...]`` and ``X | None``.

    Examples:
        >>> Account = ModelRef("accounts")
        >>> Account | None
        typing.Optional[ModelRef(name='accounts')]
    """

    name: str
    """The collection name."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(
                f"a model reference needs a collection name, not {self.name!r}"
            )

    # ``typing`` only accepts callables as type arguments (``Optional[...]``, string annotations).
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{self!r} is a parameter type, not a constructor")

    def __or__(self, other: Any) -> Any:
        return typing.Optional[self] if other is None else typing.Union[self, other]  # noqa: UP007, UP045

    def __ror__(self, other: Any) -> Any:
        return typing.Optional[self] if other is None else typing.Union[other, self]  # noqa: UP007, UP045


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """``Annotated[T, ColumnRef(...)]``: a parameter typed like a column of a collection.

    The parameter gets the column's field type, options, related model, required-ness and
    default; the body receives a value ready to assign to that column (an id for a foreign key).
    """

    collection: str
    column: str

    @classmethod
    def parse(cls, path: str) -> ColumnRef:
        """``"orders.status"`` or ``"sales.orders.status"`` (split at the last dot).

        Examples:
            >>> ColumnRef.parse("sales.orders.status")
            ColumnRef(collection='sales.orders', column='status')
        """
        collection, dot, column = path.rpartition(".")
        if not dot or not collection or not column:
            raise ConfigurationError(
                f"a column reference looks like 'collection.column', not {path!r}"
            )
        return cls(collection, column)

    def __str__(self) -> str:
        return f"{self.collection}.{self.column}"


@dataclass(frozen=True, slots=True)
class Param:
    """``Annotated[T, Param(label=..., description=..., secret=...)]``: how Jet Admin shows a
    parameter, and whether its value is secret.

    A ``secret`` parameter's value is replaced by ``"[redacted]"`` in the action journal.

    Examples:
        >>> from typing import Annotated
        >>> Cents = Annotated[int, Param(label="Amount (cents)")]
        >>> Pin = Annotated[str, Param(secret=True)]
        >>> def refund(order: object, amount: Cents, pin: Pin) -> None: ...
    """

    label: str | None = None
    description: str | None = None
    secret: bool = False
