"""MySQL's and MariaDB's own answers: which statements are over ``max_allowed_packet`` before
they are sent, a refusal the rollback after it hid behind a lost connection, and the server's
read-only option told from its other options."""

from __future__ import annotations

import pymysql
from sqlalchemy.exc import OperationalError

from flexorm.db_errors import classify, over_packet, translate
from flexorm.exceptions import RequestError

UPDATE = "UPDATE notes SET body=%(body)s WHERE notes.id = %(id_1)s"


def test_a_statement_is_over_the_limit_by_its_values_as_the_driver_writes_them() -> None:
    assert not over_packet(UPDATE, {"body": "x" * 900, "id_1": 1}, 1024)
    assert over_packet(UPDATE, {"body": "x" * 1024, "id_1": 1}, 1024)
    assert over_packet(UPDATE, {"body": "'" * 600, "id_1": 1}, 1024)  # each quote escaped
    assert over_packet(UPDATE, {"body": "é" * 520, "id_1": 1}, 1024)  # two bytes each
    assert over_packet(UPDATE, {"body": b"\0" * 600, "id_1": 1}, 1024)


def test_an_executemany_counts_its_largest_row_not_all_of_them() -> None:
    """The drivers send an ``executemany``'s rows in statements of their own size."""
    rows = [{"body": "x" * 500, "id_1": n} for n in range(100)]
    assert not over_packet(UPDATE, rows, 1024, many=True)
    assert over_packet(UPDATE, [*rows, {"body": "x" * 2000, "id_1": 0}], 1024, many=True)


def _lost_after(first: BaseException) -> OperationalError:
    try:
        try:
            raise first
        except OperationalError:
            raise OperationalError("ROLLBACK", None, pymysql.err.OperationalError(
                2006, "MySQL server has gone away"), connection_invalidated=True) from None
    except OperationalError as exc:
        return exc


def test_a_refusal_hidden_behind_the_rollbacks_lost_connection_is_still_a_refused_value(
        ) -> None:
    refused = OperationalError(UPDATE, {}, pymysql.err.OperationalError(
        1153, "Got a packet bigger than 'max_allowed_packet' bytes"))
    assert classify(refused) == "too_large"
    hidden = _lost_after(refused)
    assert classify(hidden) == "too_large"
    error = translate(hidden)
    assert isinstance(error, RequestError)
    assert "max_allowed_packet" in error.message


def test_a_lost_connection_after_another_error_is_still_an_outage() -> None:
    other = OperationalError(UPDATE, {}, pymysql.err.OperationalError(
        1205, "Lock wait timeout exceeded"))
    assert classify(_lost_after(other)) == "unavailable"


def test_mysqls_read_only_option_is_the_database_taking_no_writes_not_another_option() -> None:
    read_only = OperationalError(UPDATE, {}, pymysql.err.OperationalError(
        1290, "The MariaDB server is running with the --read-only option so it cannot execute "
              "this statement"))
    assert classify(read_only) == "read_only"
    other = OperationalError(UPDATE, {}, pymysql.err.OperationalError(
        1290, "The MySQL server is running with the --secure-file-priv option so it cannot "
              "execute this statement"))
    assert classify(other) is None
