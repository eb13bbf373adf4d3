"""The demo shop, as ``flexorm serve`` runs it with no arguments.

The code lives in the package (``flexorm/_demo/shop.py`` for the actions, ``schema.py`` for the
tables and seed rows) so that ``flexorm serve`` finds it however flexorm is installed; this
module re-exports it for ``flexorm serve --app examples.shop.app:app`` and for ``uvicorn``.
"""

from flexorm._demo.shop import app, flex

__all__ = ["app", "flex"]
