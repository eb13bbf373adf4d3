"""flexorm's MCP server: every action as a tool, at ``/mcp`` (Streamable HTTP).

:mod:`~flexorm.mcp.endpoint` authenticates and mounts it (and imports nothing of the SDK);
:mod:`~flexorm.mcp.server` is the server itself, built on the official SDK on first use.
"""
