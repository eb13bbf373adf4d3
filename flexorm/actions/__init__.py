"""FlexActions: declaring actions, deriving their parameters, validating and running them."""

from flexorm.actions.context import ActionContext, Policy
from flexorm.actions.declaration import (
    ActionDeclaration,
    OptionsHook,
    action,
    collect_model_actions,
    declare,
)
from flexorm.actions.params import ColumnRef, ModelRef, Param, Text
from flexorm.actions.service import ActionService

__all__ = [
    "ActionContext",
    "ActionDeclaration",
    "ActionService",
    "ColumnRef",
    "ModelRef",
    "OptionsHook",
    "Param",
    "Policy",
    "Text",
    "action",
    "collect_model_actions",
    "declare",
]
