"""flexorm: Jet Admin FlexActions for any SQLAlchemy database, served by Litestar.

Examples:
    >>> from flexorm import Flex
    >>> flex = Flex("sqlite:///shop.db", token="s3cret")
"""

from flexorm.actions.context import ActionContext
from flexorm.actions.declaration import action
from flexorm.actions.params import Code, Param, Sql, Text, Translatable
from flexorm.actions.policies import (
    all_of,
    any_of,
    authenticated,
    can_read,
    can_write,
    owner,
    super_group,
    users,
)
from flexorm.auth.caller import Caller
from flexorm.exceptions import (
    ActionError,
    ConfigurationError,
    FlexormError,
    NotAuthenticated,
    PermissionDenied,
    ValidationError,
)
from flexorm.flex import Flex
from flexorm.migrations.filters import include_object
from flexorm.settings import Settings

__all__ = [
    "ActionContext",
    "ActionError",
    "Caller",
    "Code",
    "ConfigurationError",
    "Flex",
    "FlexormError",
    "NotAuthenticated",
    "Param",
    "PermissionDenied",
    "Settings",
    "Sql",
    "Text",
    "Translatable",
    "ValidationError",
    "action",
    "all_of",
    "any_of",
    "authenticated",
    "can_read",
    "can_write",
    "include_object",
    "owner",
    "super_group",
    "users",
]
