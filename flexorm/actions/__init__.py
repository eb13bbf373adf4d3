"""FlexActions: declaring actions, deriving their parameters, validating and running them."""

from flexorm.actions.context import ActionContext, Policy
from flexorm.actions.declaration import (
    ActionDeclaration,
    OptionsHook,
    action,
    collect_model_actions,
    declare,
)
from flexorm.actions.params import Code, ColumnRef, ModelRef, Param, Sql, Text, Translatable
from flexorm.actions.service import ActionService

__all__ = [
    "ActionContext",
    "ActionDeclaration",
    "ActionService",
    "Code",
    "ColumnRef",
    "ModelRef",
    "OptionsHook",
    "Param",
    "Policy",
    "Sql",
    "Text",
    "Translatable",
    "action",
    "collect_model_actions",
    "declare",
]
