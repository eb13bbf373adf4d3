"""Following a background run through the built-in actions Jet Admin, MCP and HTTP clients
call: ``flexorm_run_status`` shows a run, ``flexorm_cancel_run`` cancels it, each only for a
caller who may run the run's action (any other run is answered as missing)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from flexorm import ActionContext
from flexorm.auth.caller import Caller
from flexorm.exceptions import ActionError, PermissionDenied, RequestError
from flexorm.protocol.requests import ExecuteRequest
from flexorm.runtime import Runtime
from tests.integration._background_shop import (
    CALLER,
    create_tables,
    make_flex,
    queue,
    run_of,
    wait_for,
)

OTHER_KEY = Caller(kind="key", key_name="key-2")
READ_ONLY = Caller(kind="key", key_name="key-1", read_only=True)


@pytest.fixture(autouse=True)
def _signals(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bodies' signals go to the test's own folder, not the working directory."""
    monkeypatch.setenv("FLEXORM_TEST_SIGNALS", str(tmp_path))


def _scenario(url: str, body: Any) -> None:
    """``body(runtime)`` with the background shop, plus ``private`` (only key-1 may run it),
    its runs run by the server process."""
    create_tables(url)
    flex = make_flex(url, background_runner="embedded")

    @flex.action(background=True, writes=False,
                 allow=lambda ctx: ctx.caller.key_name == "key-1")
    def private(ctx: ActionContext) -> str:
        return "for key-1"

    async def main() -> None:
        async with flex.runtime() as runtime:
            await body(runtime)

    asyncio.run(main())


async def _call(runtime: Runtime, action: str, run: int, caller: Caller = CALLER) -> Any:
    answer = await runtime.actions.execute(
        ExecuteRequest(action=action, params={"run": run}), caller=caller)
    return answer["result"]


def _moment(text: Any) -> dt.datetime:
    assert isinstance(text, str), text
    return dt.datetime.fromisoformat(text)


def test_a_finished_run_shows_its_status_progress_and_result(any_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "touch", ids=(1, 2), tag="shown")
        await wait_for(runtime, run_id)
        shown = await _call(runtime, "flexorm_run_status", run_id)
        times = [_moment(shown.pop(key)) for key in ("started_at", "running_at", "finished_at")]
        assert times == sorted(times)
        assert shown == {
            "run": str(run_id), "action": "touch", "collection": "items", "status": "succeeded",
            "progress": {"done": 2, "total": 2, "message": "item 2"}, "result": 2,
            "error": None, "attempts": 1, "cancel_requested": False}

        failed = await queue(runtime, "explode", ids=(3,))
        await wait_for(runtime, failed)
        shown = await _call(runtime, "flexorm_run_status", failed)
        assert (shown["status"], shown["result"], shown["finished_at"] is not None) == (
            "failed", None, True)
        assert shown["error"] == (await run_of(runtime, failed)).error

    _scenario(any_url, body)


def test_a_run_of_an_action_the_caller_may_not_run_is_answered_as_missing(
        db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        private = await queue(runtime, "private")
        assert (await wait_for(runtime, private)).status == "succeeded"
        assert (await _call(runtime, "flexorm_run_status", private))["result"] == "for key-1"
        held = await queue(runtime, "gated", tag="held")
        await wait_for(runtime, held, ("running",))
        # it holds SQLite's write lock: a look at it answers at once all the same
        assert (await _call(runtime, "flexorm_run_status", held))["status"] == "running"
        for action, run, caller in [
            ("flexorm_run_status", private, OTHER_KEY),  # its policy refuses key-2
            ("flexorm_cancel_run", private, OTHER_KEY),
            ("flexorm_run_status", held, READ_ONLY),  # gated writes: not for read-only keys
            ("flexorm_run_status", 10**9, CALLER),  # no such run
        ]:
            run_text = str(run)
            with pytest.raises(ActionError, match=f"^there is no background run {run_text}$"):
                await _call(runtime, action, run, caller)
        # a read-only caller may look, never cancel: refused before the run is even read
        with pytest.raises(PermissionDenied):
            await _call(runtime, "flexorm_cancel_run", held, READ_ONLY)
        assert (await run_of(runtime, held)).status == "running"
        assert (await _call(runtime, "flexorm_cancel_run", held))["status"] == "cancelling"
        assert (await wait_for(runtime, held)).status == "cancelled"
        shown = await _call(runtime, "flexorm_run_status", held)
        assert (shown["status"], shown["cancel_requested"]) == ("cancelled", True)

    _scenario(db_url, body)


def test_a_look_at_a_run_leaves_no_journal_row_and_takes_no_idempotency_key(
        db_url: str) -> None:
    async def body(runtime: Runtime) -> None:
        run_id = await queue(runtime, "trivial", tag="looked at")
        await wait_for(runtime, run_id)
        for _ in range(3):
            assert (await _call(runtime, "flexorm_run_status", run_id))["status"] == "succeeded"
        with pytest.raises(RequestError, match="not recorded in the journal") as refused:
            await runtime.actions.execute(
                ExecuteRequest(action="flexorm_run_status", params={"run": run_id}),
                caller=CALLER, idempotency_key="key-look")
        assert refused.value.field == "idempotency_key"
        assert runtime.journal is not None
        async with runtime.journal.engine.connect() as conn:
            recorded = await runtime.journal.runs.recent(conn, limit=100)
        assert [run.action for run in recorded] == ["trivial"]

    _scenario(db_url, body)
