"""Allowed values from ``CHECK`` constraints: ``col IN (...)``, ``col = ANY (ARRAY[...])``, and
``col = 'a' OR col = 'b' ...`` (any mix of these over one column, joined by ``OR``).

SQLite keeps a constraint as it was written; PostgreSQL rewrites ``status IN ('a', 'b')`` to
``(status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])``. Both
are read by a small tokenizer, so quotes, commas and brackets inside values are safe. A check that
is anything more (``AND``, ``NOT IN``, ranges, ``OR`` over two columns...) gives nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["CheckList", "parse_check_list"]


@dataclass(frozen=True, slots=True)
class CheckList:
    """A column restricted to a list of values by a check constraint."""

    column: str
    values: tuple[Any, ...]


class _Token(NamedTuple):
    kind: str  # "str", "num", "ident", "word", "op"
    text: str
    value: Any = None


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<str>[eEnN]?'(?:[^']|'')*')
    | (?P<dq>"(?:[^"]|"")*")
    | (?P<bq>`(?:[^`]|``)*`)
    | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)
    | (?P<word>[A-Za-z_][A-Za-z_0-9$]*)
    | (?P<op>::|[()\[\],=.\-+])
    """,
    re.VERBOSE,
)
_BRACKET_IDENT = re.compile(r"\[([^\]',]+)\]")


_KEYWORDS = frozenset({"OR", "AND", "IN", "NOT", "IS"})
"""Words that end a type name in a cast (``'a'::text OR ...``)."""


class _UnparsableError(Exception):
    pass


def _tokenize(sql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(sql):
        previous = tokens[-1] if tokens else None
        if sql[pos] == "[" and not (previous and previous.kind == "word"
                                    and previous.text.upper() == "ARRAY"):
            bracket = _BRACKET_IDENT.match(sql, pos)
            if bracket:  # SQLite's [quoted identifier]
                tokens.append(_Token("ident", bracket.group(1), bracket.group(1)))
                pos = bracket.end()
                continue
        match = _TOKEN.match(sql, pos)
        if match is None:
            raise _UnparsableError(sql[pos:])
        pos = match.end()
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "space":
            continue
        if kind == "str":
            body = text[text.index("'") + 1:-1]
            tokens.append(_Token("str", text, body.replace("''", "'")))
        elif kind in ("dq", "bq"):
            quote = text[0]
            tokens.append(_Token("ident", text, text[1:-1].replace(quote * 2, quote)))
        elif kind == "num":
            number: Any = float(text) if any(c in text for c in ".eE") else int(text)
            tokens.append(_Token("num", text, number))
        else:
            tokens.append(_Token(kind, text, text))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_op(self, text: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == "op" and token.text == text

    def is_word(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.upper() == text

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _UnparsableError("unexpected end")
        self.pos += 1
        return token

    def expect_op(self, text: str) -> None:
        if not self.is_op(text):
            raise _UnparsableError(text)
        self.pos += 1

    def casts(self) -> None:
        """Skip ``::type name(n)[]`` suffixes."""
        while self.is_op("::"):
            self.pos += 1
            if self.take().kind not in ("word", "ident"):
                raise _UnparsableError("cast")
            while ((token := self.peek()) is not None and token.kind == "word"
                   and token.text.upper() not in _KEYWORDS):  # "character varying"
                self.pos += 1
            if self.is_op("("):
                while not self.is_op(")"):
                    self.take()
                self.pos += 1
            while self.is_op("[") and self.is_op("]", 1):
                self.pos += 2

    def column(self) -> str:
        """``name``, ``"name"``, ``t.name``, ``(name)``, each with optional casts."""
        if self.is_op("("):
            self.pos += 1
            name = self.column()
            self.expect_op(")")
        else:
            token = self.take()
            if token.kind not in ("word", "ident"):
                raise _UnparsableError("column")
            name = str(token.value)
            while self.is_op("."):
                self.pos += 1
                part = self.take()
                if part.kind not in ("word", "ident"):
                    raise _UnparsableError("column")
                name = str(part.value)
        self.casts()
        return name

    def literal(self) -> Any:
        if self.is_op("("):
            self.pos += 1
            value = self.literal()
            self.expect_op(")")
        else:
            sign = 1
            if self.is_op("-") or self.is_op("+"):
                sign = -1 if self.take().text == "-" else 1
            token = self.take()
            if token.kind == "str" and sign == 1:
                value = token.value
            elif token.kind == "num":
                value = sign * token.value
            else:
                raise _UnparsableError("literal")
        self.casts()
        return value

    def values(self, close: str) -> tuple[Any, ...]:
        values = [self.literal()]
        while self.is_op(","):
            self.pos += 1
            values.append(self.literal())
        self.expect_op(close)
        return tuple(values)

    def array(self) -> tuple[Any, ...]:
        """``ARRAY[...]`` with optional parentheses and casts around it."""
        if self.is_op("("):
            self.pos += 1
            values = self.array()
            self.expect_op(")")
        else:
            if not self.is_word("ARRAY"):
                raise _UnparsableError("ARRAY")
            self.pos += 1
            self.expect_op("[")
            values = self.values("]")
        self.casts()
        return values

    def check(self) -> CheckList:
        """Terms over one column joined by ``OR``: their values together."""
        result = self.term()
        while self.is_word("OR"):
            self.pos += 1
            other = self.term()
            if other.column != result.column:
                raise _UnparsableError("OR over two columns")
            result = CheckList(result.column, tuple(dict.fromkeys(result.values + other.values)))
        return result

    def term(self) -> CheckList:
        if self.is_op("("):  # an expression in parentheses
            start = self.pos
            self.pos += 1
            try:
                inner = self.check()
                self.expect_op(")")
            except _UnparsableError:
                self.pos = start  # "(col)::text = ANY ..." starts with a parenthesis too
            else:
                return inner
        name = self.column()
        if self.is_word("IN"):
            self.pos += 1
            self.expect_op("(")
            return CheckList(name, self.values(")"))
        self.expect_op("=")
        if not self.is_word("ANY"):
            return CheckList(name, (self.literal(),))
        self.pos += 1
        self.expect_op("(")
        values = self.array()
        self.expect_op(")")
        return CheckList(name, values)


_MAYBE_LIST = re.compile(r"\b(?:IN|ANY|OR)\b", re.IGNORECASE)
"""A check without ``IN``, ``ANY`` or ``OR`` cannot be a list: no need to tokenize it."""

_PLAIN = r"'[^']*'"
_PG_STRING = rf"{_PLAIN}(?:::(?:character varying|text))?"
_FAST = (
    # SQLite as written: status IN ('a', 'b'), optionally in parentheses
    re.compile(
        rf"\s*(?P<open>\(\s*)?(?P<column>[A-Za-z_][A-Za-z_0-9$]*)\s+IN\s*\(\s*"
        rf"(?P<values>{_PLAIN}(?:\s*,\s*{_PLAIN})*)\s*\)\s*(?(open)\))\s*",
        re.IGNORECASE,
    ),
    # PostgreSQL's rewrite: ((status)::text = ANY ((ARRAY['a'::character varying])::text[])),
    # with or without each pair of parentheses and the casts (versions differ)
    re.compile(
        rf"(?P<outer>\()?(?P<paren>\()?(?P<column>[a-z_][a-z_0-9$]*)(?(paren)\))(?:::text)? = "
        rf"ANY \((?P<array>\()?ARRAY\[(?P<values>{_PG_STRING}(?:, {_PG_STRING})*)\]"
        rf"(?(array)\))(?:::text\[\])?\)(?(outer)\))"
    ),
)
_PLAIN_VALUE = re.compile(r"'([^']*)'")


def _fast(sql: str) -> CheckList | None:
    """The common shapes, all of plain quoted strings, by one regular expression each."""
    for pattern in _FAST:
        match = pattern.fullmatch(sql)
        if match is not None:
            return CheckList(match["column"], tuple(_PLAIN_VALUE.findall(match["values"])))
    return None


def parse_check_list(sql: str) -> CheckList | None:
    """The column and values of a check that is one list of values, else ``None``.

    Examples:
        >>> parse_check_list("status IN ('new', 'it''s')")
        CheckList(column='status', values=('new', "it's"))
        >>> parse_check_list("(kind)::text = ANY ((ARRAY['a'::character varying])::text[])")
        CheckList(column='kind', values=('a',))
        >>> parse_check_list("price > 0") is None
        True
        >>> parse_check_list("((size)::text = 'S'::text) OR ((size)::text = 'M'::text)")
        CheckList(column='size', values=('S', 'M'))
    """
    if not _MAYBE_LIST.search(sql):
        return None
    return _fast(sql) or _parse(sql)


def _parse(sql: str) -> CheckList | None:
    """:func:`parse_check_list` by the tokenizer, for every shape."""
    try:
        parser = _Parser(_tokenize(sql))
        result = parser.check()
    except (_UnparsableError, IndexError):
        return None
    if parser.pos != len(parser.tokens) or not result.values:
        return None
    return result
