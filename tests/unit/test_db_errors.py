"""What the pool's wait for a connection, given up, means to a client: 503 ``database_busy``,
whichever way the request came (the Jet endpoint, HTTP operations, an MCP tool)."""

from __future__ import annotations

from sqlalchemy.exc import TimeoutError as PoolTimeout

from flexorm.db_errors import classify, outage, translate
from flexorm.exceptions import DatabaseBusy, DatabaseUnavailable
from flexorm.mcp.server import tool_error
from flexorm.protocol.errors import error_body

GIVEN_UP = PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out, "
                       "timeout 30.00")


def test_the_pools_timeout_is_the_database_being_busy() -> None:
    assert classify(GIVEN_UP) == "busy"
    error = translate(GIVEN_UP)
    assert isinstance(error, DatabaseBusy)
    assert isinstance(error, DatabaseUnavailable)  # retried like an outage where one is
    status, body = error_body(error)
    assert status == 503
    assert body == {"error": "every connection to the database is in use by other requests; "
                             "nothing was written: try again shortly",
                    "error_code": "database_busy"}


def test_the_log_line_says_what_to_raise_and_the_client_is_not_told() -> None:
    line = outage(GIVEN_UP)
    assert line is not None
    assert "QueuePool limit of size 5 overflow 10" in line
    assert "pool_size or max_overflow" in line
    assert "pool_size" not in error_body(DatabaseBusy("busy"))[1]["error"]


def test_an_mcp_tool_call_gets_the_same_answer() -> None:
    assert tool_error(GIVEN_UP)["error_code"] == "database_busy"
