"""Reflection: any database's tables and views as Jet Admin collections and fields.

:func:`reflect` reads the schema once at startup into immutable records
(:mod:`flexorm.reflection.records`); :func:`merge_models` refines them with user models;
:func:`model_descriptions` and :func:`field_types` turn them into what Jet Admin reads.
"""

from flexorm.reflection.descriptions import (
    encoded_model_descriptions,
    iter_model_descriptions,
    model_descriptions,
)
from flexorm.reflection.models import merge_models
from flexorm.reflection.reflector import Progress, reflect, reflect_sync
from flexorm.reflection.typemap import field_types

__all__ = [
    "Progress",
    "encoded_model_descriptions",
    "field_types",
    "iter_model_descriptions",
    "merge_models",
    "model_descriptions",
    "reflect",
    "reflect_sync",
]
