"""The message names of the Jet Admin protocol that flexorm answers."""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXECUTE_ACTION",
    "GET_ACTION_LIST",
    "GET_ELEMENT_STATUS",
    "GET_FIELD_OPTIONS",
    "RELOAD_SCHEMA",
]

GET_ACTION_LIST: Final = "get_action_list"
EXECUTE_ACTION: Final = "execute_action"
GET_FIELD_OPTIONS: Final = "get_field_options"
GET_ELEMENT_STATUS: Final = "get_element_status"
"""Reserved by the reference server with no documented shape: answered only by a handler."""
RELOAD_SCHEMA: Final = "reload_schema"
"""flexorm's own message (not Jet Admin's): take a changed schema without a restart."""
