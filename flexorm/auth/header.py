"""The ``Authorization`` header as the Jet Admin protocol writes it (section 3).

The header holds one or more comma-separated credentials, ``"<Type> <value>[;key=value...]"``.
A ``JWT`` credential wins when present, else the first one counts. Type names are
case-sensitive: ``bearer`` is not ``Bearer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Credential", "parse_authorization", "select_credential"]


@dataclass(frozen=True, slots=True)
class Credential:
    """One credential of an ``Authorization`` header."""

    type: str
    """``Bearer``, ``JWT``, ``Token``... exactly as sent."""
    value: str = field(repr=False)
    """The secret itself: never logged, never repeated in an error."""
    params: Mapping[str, str] = field(default_factory=dict)
    """``;key=value`` pairs after the value (``JWT <token>;project=x``)."""


def parse_authorization(header: str | None) -> list[Credential]:
    """Every well-formed credential of the header, in order; malformed parts are skipped.

    Examples:
        >>> [c.type for c in parse_authorization("Bearer abc, JWT x.y.z;project=shop")]
        ['Bearer', 'JWT']
        >>> parse_authorization("JWT x.y.z;project=shop")[0].params
        {'project': 'shop'}
    """
    credentials: list[Credential] = []
    for part in (header or "").split(","):
        kind, _, rest = part.strip().partition(" ")
        value, *extras = rest.strip().split(";")
        if not kind or not value.strip():
            continue
        params: dict[str, str] = {}
        for extra in extras:
            key, sep, param_value = extra.partition("=")
            if sep and key.strip():
                params[key.strip()] = param_value.strip()
        credentials.append(Credential(type=kind, value=value.strip(), params=params))
    return credentials


def select_credential(credentials: list[Credential]) -> Credential | None:
    """The credential that counts: the first ``JWT`` one, else the first one."""
    for credential in credentials:
        if credential.type == "JWT":
            return credential
    return credentials[0] if credentials else None
