"""The served apps: flexorm with two actions, and a bare Litestar handler answering the same bytes.

Both are imported by uvicorn in their own process. ``FLEXORM_DATABASE_URL`` and ``FLEXORM_TOKEN``
configure flexorm; ``BENCH_BARE_BODY`` names a file holding the bytes the bare handler answers
(flexorm's own ``get_action_list`` answer, fetched first). The bare handler sends the same
response headers too: the CORS headers every answer of the protocol carries, as static values
(the server's cost of writing them is the same for both, and is not flexorm's).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, post

from bench.schemas import ORDERS
from flexorm import Flex
from flexorm.server.cors import cors_headers

flex = Flex()


@flex.action(model=ORDERS, for_instance=True, bulk=True)
def mark(orders: list[Any], status: str = "done") -> int:
    """Set the status of the selected orders."""
    for order in orders:
        order.status = status
    return len(orders)


@flex.action
def ping() -> str:
    return "pong"


flexorm_app = flex.app


def _bare() -> Litestar:
    body_file = os.environ.get("BENCH_BARE_BODY")
    body = Path(body_file).read_bytes() if body_file else b"[]"

    headers = {name.decode(): value.decode() for name, value in cors_headers("*")}

    @post("/api/messages/", status_code=200)
    async def messages() -> Response[bytes]:
        return Response(content=body, media_type="application/json", headers=headers)

    return Litestar(route_handlers=[messages])


bare_app = _bare() if os.environ.get("BENCH_BARE_BODY") else None
