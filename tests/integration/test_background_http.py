"""A background action through the real server (``flexorm serve``, uvicorn), as Jet Admin calls
it: ``execute_action`` answers the queued run at once, the same ``Idempotency-Key`` (sent again,
or by many clients at once) gives one run, bad input is refused with nothing queued, and the run
is then run: by the server itself on SQLite, by a ``flexorm worker`` on PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests._serving import WAIT, at_once
from tests.conftest import pg_database
from tests.integration._background_deploy import (
    StateJournal,
    Workers,
    execute,
    queued_run,
    server,
)
from tests.integration._background_shop import AUTH, calls, create_tables, item_state

CONFLICT = "idempotency_conflict"


@dataclass(frozen=True)
class Served:
    url: str
    """The database (and its journal)."""
    base: str
    journal: StateJournal
    runner: str
    """Who runs the runs, as the journal's ``worker`` column starts: ``server`` or ``worker``."""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                               marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"http-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url, runner = f"sqlite:///{folder / 'shop.db'}", "embedded"
        else:
            url = stack.enter_context(pg_database(request.getfixturevalue("postgres_server")))
            runner = "queue"
        create_tables(url)
        env = {"FLEXORM_DATABASE_URL": url, "FLEXORM_BACKGROUND_RUNNER": runner,
               "FLEXORM_TEST_SIGNALS": str(folder)}
        base = stack.enter_context(server(env, folder / "server.log"))
        if runner == "queue":
            workers = Workers(url, folder, env)
            stack.callback(workers.stop)
            workers.start()
        journal = StateJournal(url)
        stack.callback(journal.close)
        yield Served(url, base, journal, "server" if runner == "embedded" else "worker")


def _background_runs(served: Served) -> list[tuple[int, str]]:
    return [(run.id or 0, run.status) for run in served.journal.runs() if run.background]


def test_the_answer_is_the_queued_run_then_the_run_is_run(served: Served) -> None:
    run_id = queued_run(execute(served.base, "touch", ids=[1, 2], tag="a"))
    entry = served.journal.wait_for(run_id)
    assert (entry.status, entry.result, entry.background) == ("succeeded", 2, True)
    assert (entry.progress_done, entry.progress_total) == (2, 2)
    assert str(served.journal.column(run_id, "worker")).startswith(f"{served.runner}:")
    assert [tag for tag, _ in calls(served.url, "touch")] == ["a"]
    assert [item_state(served.url, i) for i in (1, 2, 3)] == ["touched", "touched", "new"]
    status, shown = execute(served.base, "flexorm_run_status", run=run_id)
    assert status == 200, shown
    assert {key: shown["result"][key] for key in ("run", "action", "status", "result")} == {
        "run": str(run_id), "action": "touch", "status": "succeeded", "result": 2}
    assert shown["result"]["progress"] == {"done": 2, "total": 2,
                                           "message": entry.progress_message}


def test_the_answer_does_not_wait_for_the_body(served: Served) -> None:
    # the body works until stopped: its answer came before it finished, or never
    run_id = queued_run(execute(served.base, "long_reader", tag="early"))
    assert served.journal.get(run_id).status in ("queued", "running")
    assert served.journal.wait_for(run_id, ("running",)).status == "running"
    assert execute(served.base, "flexorm_cancel_run", run=run_id) == (
        200, {"result": {"run": str(run_id), "status": "cancelling"}})
    assert served.journal.wait_for(run_id).status == "cancelled"


def test_the_same_key_sent_again_answers_the_same_run(served: Served) -> None:
    first = queued_run(execute(served.base, "trivial", tag="again", key="key-again"))
    assert queued_run(execute(served.base, "trivial", tag="again", key="key-again")) == first
    assert served.journal.wait_for(first).status == "succeeded"
    assert queued_run(execute(served.base, "trivial", tag="again", key="key-again")) == first
    assert [tag for tag, _ in calls(served.url, "trivial")].count("again") == 1


def test_the_same_key_sent_by_many_clients_at_once_queues_one_run(served: Served) -> None:
    answers = at_once([lambda: execute(served.base, "trivial", tag="burst", key="key-burst")
                       for _ in range(8)])
    queued = {queued_run(answer) for answer in answers if answer[0] == 200}
    assert len(queued) == 1, answers
    # a client that came while the first one was queuing is told to retry, and then gets it
    assert all(answer == (409, {"error": "a request with this Idempotency-Key is still running; "
                                         "retry later", "error_code": CONFLICT})
               for answer in answers if answer[0] != 200), answers
    (run_id,) = queued
    assert queued_run(execute(served.base, "trivial", tag="burst", key="key-burst")) == run_id
    assert served.journal.wait_for(run_id).status == "succeeded"
    keyed = [run.id for run in served.journal.runs("trivial")
             if run.idempotency_key == "key-burst" and run.background]
    assert keyed == [run_id]
    assert [tag for tag, _ in calls(served.url, "trivial")].count("burst") == 1


def test_bad_input_is_refused_in_the_protocols_shape_with_nothing_queued(
        served: Served) -> None:
    before = _background_runs(served)
    touched = calls(served.url, "touch")
    base = served.base
    answers = [
        execute(base, "touch", ids=[1], tag=["not", "text"], key="key-bad"),
        execute(base, "touch", ids=[1, 99], tag="missing"),
        execute(base, "touch", ids=["x"], tag="not an id"),
        execute(base, "touch", tag="no records"),
        execute(base, "trivial", tag={"a": 1}),
        execute(base, "nonexistent", tag="x"),
    ]
    assert answers == [
        (400, {"tag": ["Input should be a valid string."]}),
        (400, {"ids": ["no items record with id 99"]}),
        (400, {"ids": ["'x' is not a valid items id (not a whole number)"]}),
        (400, {"ids": ["action 'touch' runs on records: send their ids"]}),
        (400, {"tag": ["Input should be a valid string."]}),
        (400, {"name": ["unknown action 'nonexistent'"]}),
    ]
    added = [status for run, status in _background_runs(served) if (run, status) not in before]
    assert added == ["rejected"] * 5  # recorded as refused; the unknown action as no run
    assert calls(served.url, "touch") == touched
    # the refused request did not keep its key: the same key with good input queues a run
    run_id = queued_run(execute(base, "touch", ids=[4], tag="good", key="key-bad"))
    assert served.journal.wait_for(run_id).status == "succeeded"
    assert item_state(served.url, 4) == "touched"


def _previewed(base: str, action: str, ids: list[Any], **top: Any) -> tuple[int, Any]:
    """``execute_action`` of ``action`` on ``items`` with ``top`` beside ``params``
    (``dry_run``, ``preview_token``); ``touch`` is tagged ``previewed``."""
    params = {"tag": "previewed"} if action == "touch" else {}
    response = httpx.post(f"{base}/api/messages/", headers=AUTH, timeout=WAIT, json={
        "name": "execute_action", "params": {
            "name": action, "model": "items", "ids": ids, "params": params, **top}})
    return response.status_code, response.json()


def test_a_preview_token_holds_the_run_to_what_its_dry_run_showed(served: Served) -> None:
    """The token goes with the queued run and is checked when the run runs: the previewed run
    commits; one whose data changed since the preview fails with what changed, and writes
    nothing."""
    status, preview = _previewed(served.base, "touch", [5, 6], dry_run=True)
    assert status == 200, preview
    assert {table: counts["updated"] + counts["inserted"]
            for table, counts in preview["changes"].items()} == {"items": 2, "calls": 1}
    run_id = queued_run(_previewed(served.base, "touch", [5, 6],
                                   preview_token=preview["preview_token"]))
    entry = served.journal.wait_for(run_id)
    assert (entry.status, entry.result, entry.error) == ("succeeded", 2, None)
    assert [item_state(served.url, i) for i in (5, 6)] == ["touched", "touched"]

    _, stale = _previewed(served.base, "touch", [7], dry_run=True)
    # the same request without the token touches item 7 first: the previewed run would not
    # change it any more
    assert served.journal.wait_for(queued_run(_previewed(served.base, "touch", [7]))).status \
        == "succeeded"
    previewed_calls = [tag for tag, _ in calls(served.url, "touch")].count("previewed")
    run_id = queued_run(_previewed(served.base, "touch", [7],
                                   preview_token=stale["preview_token"]))
    entry = served.journal.wait_for(run_id)
    assert (entry.status, entry.error) == (
        "failed", "the data changed since the preview: this run would change calls "
                  "(1 inserted), the preview showed calls (1 inserted); items (1 updated); "
                  "nothing was saved")
    assert [tag for tag, _ in calls(served.url, "touch")].count("previewed") == previewed_calls

    # another selection than the preview's is refused at once, with nothing queued
    before = _background_runs(served)
    assert _previewed(served.base, "touch", [8], preview_token=stale["preview_token"]) == (
        409, {"error": "this preview_token was made for another action, selection, "
                       "parameters or caller; nothing was saved",
              "error_code": "preview_mismatch"})
    assert [status for run, status in _background_runs(served)
            if (run, status) not in before] == ["failed"]  # the refused request's row
    assert item_state(served.url, 8) == "new"


def test_a_run_committing_chunk_by_chunk_takes_no_preview_token(served: Served) -> None:
    status, preview = _previewed(served.base, "chunked_bulk", [9], dry_run=True)
    assert status == 200, preview
    assert "preview_token" not in preview  # no one transaction a token could hold back
    assert _previewed(served.base, "chunked_bulk", [9], preview_token="eyJ2IjoxfQ") == (
        400, {"preview_token": ["action 'chunked_bulk' commits chunk by chunk, so a preview "
                                "cannot hold its run back: send it without preview_token"]})
    assert item_state(served.url, 9) == "new"
