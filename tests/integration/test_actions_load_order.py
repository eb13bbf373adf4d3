"""Loading a selection over several chunks: the body sees the request's order, and every
missing id is reported, whichever chunk it falls in."""

from __future__ import annotations

import pytest

from flexorm.exceptions import ValidationError
from flexorm.protocol.requests import ExecuteRequest
from tests.integration._actions_shop import CALLER, create_shop, make_flex, service, snapshot

pytestmark = pytest.mark.anyio


def ids_flex(url: str):
    create_shop(url)
    flex = make_flex(url, chunk_size=2)

    @flex.action(model="orders", for_instance=True, bulk=True)
    def touch(orders) -> list[int]:
        for order in orders:
            order.status = "shipped"
        return [order.id for order in orders]

    return flex


async def test_rows_from_several_chunks_keep_the_request_order(db_url):
    async with service(ids_flex(db_url)) as actions:
        answer = await actions.execute(
            ExecuteRequest("touch", model="orders", ids=(5, "1", 4, 2, 5, 3)), caller=CALLER)
    assert answer == {"result": [5, 1, 4, 2, 3]}
    assert {row[1] for row in snapshot(db_url, "orders")} == {"shipped"}


async def test_missing_ids_in_any_chunk_are_all_reported(db_url):
    flex = ids_flex(db_url)
    before = snapshot(db_url, "orders")
    async with service(flex) as actions:
        with pytest.raises(ValidationError) as info:
            await actions.execute(
                ExecuteRequest("touch", model="orders", ids=(8, 1, 2, 9, 3, 7)), caller=CALLER)
    assert info.value.errors == {"ids": ["no orders record with id 8, 9, 7"]}
    assert snapshot(db_url, "orders") == before
