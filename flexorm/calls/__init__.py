"""Actions called from outside Jet Admin: MCP tools and typed HTTP operations.

One declaration serves every caller. This package gives each bound action a stable name, one
flat JSON Schema for its input (derived from the same parameter specs that give Jet Admin its
field types), and one way in: :func:`~flexorm.calls.invoke.call` turns a tool's or an
operation's JSON arguments into an ``execute_action`` request and runs it through
:meth:`~flexorm.actions.service.ActionService.execute`, so validation, permissions, the
transaction and the journal are the ones Jet Admin gets.

Modules: :mod:`~flexorm.calls.names` (tool names, paths), :mod:`~flexorm.calls.schema` (input
schemas), :mod:`~flexorm.calls.catalog` (the callable actions of a runtime),
:mod:`~flexorm.calls.invoke` (the way in). The package imports none of them itself: the app
needs only the names when it starts, the rest on the first call.
"""
