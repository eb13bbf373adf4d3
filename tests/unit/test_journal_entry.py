"""Journal entries, redaction, JSON coercion and request fingerprints: pure functions."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal

import pytest

from flexorm.auth.caller import Caller
from flexorm.exceptions import IdempotencyConflict
from flexorm.journal import REDACTED, Claim, RunEntry, fingerprint, redact
from flexorm.journal.entry import as_utc, jsonable
from flexorm.journal.idempotency import AnswerNotKept
from flexorm.mcp.server import tool_error
from flexorm.protocol.durations import Duration
from flexorm.protocol.errors import error_body
from flexorm.protocol.requests import ExecuteRequest

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class Colour(enum.Enum):
    RED = "red"


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


def test_redact_replaces_only_secret_values_and_adds_nothing() -> None:
    params = {"amount": 5, "pin": "1234", "note": None}

    assert redact(params, {"pin", "password"}) == {"amount": 5, "pin": REDACTED, "note": None}
    assert params["pin"] == "1234"  # the caller's mapping is left alone


def test_entry_for_request_keeps_no_secret_and_no_credentials() -> None:
    caller = Caller(kind="jwt", user_id="u-1", project="shop",
                    claims={"token": "eyJ-secret"}, permissions=({"x": 1},))
    entry = RunEntry.for_request(
        ExecuteRequest(action="refund", model="orders", ids=(1, 2), inverse=True,
                       params={"pin": "1234", "reason": "late"}),
        caller, status="succeeded", started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=2, microseconds=500), secret=["pin"])

    row = entry.row()
    assert row["params"] == {"pin": REDACTED, "reason": "late"}
    assert (row["caller_kind"], row["caller_user_id"], row["caller_key_name"]) == (
        "jwt", "u-1", None)
    assert "eyJ-secret" not in repr(row)
    assert (row["ids"], row["inverse"], row["collection"]) == ([1, 2], True, "orders")
    assert row["duration_ms"] == 2001


def test_entry_without_caller_or_records() -> None:
    entry = RunEntry.for_request(ExecuteRequest(action="report"), None, status="rejected",
                                 started_at=T0, finished_at=T0, error="bad")

    assert entry.row()["ids"] is None
    assert entry.caller_kind is None
    assert entry.duration_ms == 0


def test_round_trip_through_a_row() -> None:
    entry = RunEntry(action="a", status="failed", started_at=T0,
                     finished_at=T0 + dt.timedelta(milliseconds=3), ids=("x",), error="e")
    stored = {"id": 7, **entry.row()}
    stored["started_at"] = stored["started_at"].replace(tzinfo=None)  # as SQLite answers

    back = RunEntry.from_row(stored)

    assert back.id == 7
    assert back.started_at == T0
    assert back.as_json()["started_at"] == "2026-03-01T12:00:00+00:00"
    assert back.as_json()["ids"] == ["x"]


def test_jsonable_turns_python_values_into_json_types() -> None:
    value = {
        "when": dt.datetime(2026, 1, 2, 3, 4, 5), "day": dt.date(2026, 1, 2),
        "price": Decimal("1.10"), "id": uuid.UUID(int=1), "colour": Colour.RED,
        "tags": {"a"}, "pair": (1, 2), "blob": b"\x01", "span": dt.timedelta(minutes=1),
        "shift": Duration(hours=-100), 1: Opaque(),
    }

    out = jsonable(value)

    assert out["when"] == "2026-01-02T03:04:05"
    assert out["day"] == "2026-01-02"
    assert out["price"] == "1.10"
    assert out["id"] == "00000000-0000-0000-0000-000000000001"
    assert out["colour"] == "red"
    assert out["tags"] == ["a"]
    assert out["pair"] == [1, 2]
    assert out["blob"] == "01"
    assert out["span"] == 60.0
    assert out["shift"] == "-100:00:00"  # a MySQL TIME, as answers write it
    assert out["1"] == "<opaque>"  # keys become text; unknown values their str()


def test_as_utc_reads_naive_as_utc_and_converts_aware() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))

    assert as_utc(dt.datetime(2026, 1, 1, 12)) == dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    assert as_utc(dt.datetime(2026, 1, 1, 14, tzinfo=plus_two)).hour == 12


@pytest.mark.parametrize(("a", "b"), [
    (("refund", "orders", [5], {"a": 1, "b": [1, 2]}),
     ("refund", "orders", [5], {"b": [1, 2], "a": 1})),
])
def test_fingerprint_ignores_key_order(a: tuple, b: tuple) -> None:
    assert fingerprint(*a) == fingerprint(*b)
    assert len(fingerprint(*a)) == 64


@pytest.mark.parametrize("other", [
    ("ship", "orders", [5], {"a": 1}),
    ("refund", "invoices", [5], {"a": 1}),
    ("refund", "orders", ["5"], {"a": 1}),
    ("refund", "orders", [5, 6], {"a": 1}),
    ("refund", "orders", None, {"a": 1}),
    ("refund", "orders", [5], {"a": 2}),
    ("refund", "orders", [5], {"a": 1, "b": None}),
])
def test_fingerprint_tells_payloads_apart(other: tuple) -> None:
    assert fingerprint("refund", "orders", [5], {"a": 1}) != fingerprint(*other)


def test_fingerprint_tells_an_inverse_selection_apart() -> None:
    assert (fingerprint("refund", "orders", [5], {}) !=
            fingerprint("refund", "orders", [5], {}, inverse=True))


def test_claim_conflicts_map_to_idempotency_conflict() -> None:
    mismatch = Claim("mismatch", "k").conflict()
    busy = Claim("in_progress", "k").conflict()

    assert isinstance(mismatch, IdempotencyConflict)
    assert (mismatch.reason, busy.reason) == ("mismatch", "in_progress")
    assert "different" in mismatch.message
    assert "still running" in busy.message
    with pytest.raises(ValueError, match="not a conflict"):
        Claim("replay", "k").conflict()


def test_a_key_whose_answer_was_not_kept_conflicts_naming_its_run_and_size() -> None:
    """Over HTTP (messages and operations) and as an MCP tool's error: the same body."""
    conflict = Claim("not_kept", "k", AnswerNotKept(23_456_789).stored(42)).conflict()
    message = ("the action already ran with this Idempotency-Key (run 42, succeeded), but its "
               "result (23,456,789 bytes) was too large to keep, so its answer cannot be sent "
               "again")
    assert (conflict.reason, conflict.message) == ("answer_not_kept", message)
    body = {"error": message, "error_code": "idempotency_answer_not_kept"}
    assert error_body(conflict) == (409, body)
    assert tool_error(conflict) == body
