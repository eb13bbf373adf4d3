"""A row answered by an action on PostgreSQL, holding the values its drivers read as Python
objects that JSON has no form for (network addresses, ranges, intervals, arrays): each answers
its text or JSON form, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import Flex

pytestmark = pytest.mark.postgres

TOKEN = "answers-test-token-0123456789abcdef"


@pytest.fixture
def url(pg_url: str) -> str:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE hosts (id int PRIMARY KEY, name text, ip inet, net cidr,"
            " mac macaddr, up interval, ports int4range, tags text[], seen tstzrange)")
        conn.exec_driver_sql(
            "INSERT INTO hosts VALUES (1, 'a', '10.0.0.1', '10.0.0.0/8', '08:00:2b:01:02:03',"
            " '1 day 2 hours', '[80,443)', '{web,db}',"
            " '[2024-01-01 00:00+00,2024-02-01 00:00+00)'),"
            " (2, 'b', '::1/128', NULL, NULL, NULL, NULL, NULL, NULL)")
    engine.dispose()
    return pg_url


def _flex(url: str) -> Flex:
    flex = Flex(url, token=TOKEN)

    @flex.action(model="hosts", for_instance=True)
    def rename(row: Any, name: str) -> Any:
        row.name = name
        return row

    return flex


def _rename(http: TestClient[Any], record: int) -> tuple[int, Any]:
    response = http.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"}, json={
        "name": "execute_action",
        "params": {"model": "hosts", "name": "rename", "id": record, "params": {"name": "x"}}})
    return response.status_code, response.json()


def test_a_row_with_network_addresses_and_ranges_is_answered(url: str) -> None:
    with TestClient(_flex(url).app) as http:
        first = _rename(http, 1)
        second = _rename(http, 2)
    assert first[0] == 200, first
    row = first[1]["result"]
    assert (row["name"], row["ip"], row["net"], row["mac"]) == (
        "x", "10.0.0.1", "10.0.0.0/8", "08:00:2b:01:02:03")
    assert row["up"] == 93600.0
    assert row["tags"] == ["web", "db"]
    assert (row["ports"]["lower"], row["ports"]["upper"]) == (80, 443)
    assert second == (200, {"result": {"id": 2, "name": "x", "ip": "::1", "net": None,
                                       "mac": None, "up": None, "ports": None, "tags": None,
                                       "seen": None}})


def test_network_and_range_parameters_are_checked_on_their_field(url: str) -> None:
    """A malformed ``inet``, ``cidr`` or range value is refused under its parameter, as a form
    shows it, before anything is written; the database's own refusal named no field."""
    flex = Flex(url, token=TOKEN)

    @flex.action(model="hosts", for_instance=True, fields=["ip", "net", "ports"])
    def readdress(row: Any, **values: Any) -> Any:
        for column, value in values.items():
            setattr(row, column, value)
        return row

    def send(ip: Any, net: Any, ports: Any = "[80,443)") -> tuple[int, Any]:
        response = http.post("/api/messages/", headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"name": "execute_action", "params": {
                                 "model": "hosts", "name": "readdress", "id": 1,
                                 "params": {"ip": ip, "net": net, "ports": ports}}})
        return response.status_code, response.json()

    with TestClient(flex.app) as http:
        assert send("10.0.0.256", "10.0.0.1/24") == (400, {
            "ip": ["'10.0.0.256' is not an IP address, such as 192.0.2.1 or 2001:db8::1/64."],
            "net": ["'10.0.0.1/24' has bits set beyond its mask: the network is 10.0.0.0/24."]})
        assert send("fe80::1%eth0", 5)[1] == {
            "ip": ["'fe80::1%eth0' is not an IP address, such as 192.0.2.1 or "
                   "2001:db8::1/64."],
            "net": ["Enter a network as text, such as 192.0.2.0/24 or 2001:db8::/32."]}
        assert send("10.0.0.1", "10.0.0.0/8", "80,443") == (400, {"ports": [
            "'80,443' is not a range. Enter a range as its text, such as \"[1,5)\", or as an "
            "object with lower, upper and bounds."]})
        status, answer = send("2001:db8::1/64", "10.1",  # PostgreSQL's shorthand for 10.1/16
                              ' ( 79 , "443" ] ')
    assert status == 200, answer
    assert (answer["result"]["ip"], answer["result"]["net"]) == ("2001:db8::1/64",
                                                                 "10.1.0.0/16")
    assert (answer["result"]["ports"]["lower"], answer["result"]["ports"]["upper"]) == (80, 444)
