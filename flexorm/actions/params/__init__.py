"""Parameter typing: from a body's signature and the reflected columns to Jet Admin fields,
validators and options.

=================  =====================================================================
module             what
=================  =====================================================================
``markers``        what a developer writes: ``Param``, ``Text`` (``Translatable``, ``Sql``,
                   ``Code``), ``ModelRef``, ``ColumnRef``
``signature``      a body's signature → parameter drafts (no database needed)
``fields``         the one Jet field table: column types and Python types → param fields
``annotated``      the pydantic types values are validated with
``kinds``          values sent in a form of their own: bytes, offsets, durations, arrays
``spec``           ``ParamSpec``: one bound parameter and its descriptor
``columns``        a parameter typed by a column (``fields=``, ``flex.column``)
``build``          a draft → a ``ParamSpec``, against the reflected schema
``ids``            record ids as sent → the key column's Python type
``validation``     validating an ``execute_action``'s params in one pass
``options``        ``get_field_options`` answers
=================  =====================================================================
"""

from flexorm.actions.params.markers import (
    Code,
    ColumnRef,
    ModelRef,
    Param,
    Sql,
    Text,
    Translatable,
)

__all__ = ["Code", "ColumnRef", "ModelRef", "Param", "Sql", "Text", "Translatable"]
