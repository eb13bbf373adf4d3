"""The demo's ``account_transfer``, clicked by twenty people at once through ``flexorm serve``:
it succeeds exactly as often as the account's balance allows, and the books still balance."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests._serving import WAIT, at_once, serving

TOKEN = "demo-concurrency-key"
CLICKS = 20
PETTY_CASH, SAVINGS = 4, 2
AMOUNT = Decimal(100)


def _flexorm(port: int) -> list[str]:
    script = Path(sys.executable).with_name("flexorm")
    command = [str(script)] if script.is_file() else [
        sys.executable, "-c", "from flexorm.cli import main; main()"]
    return [*command, "serve", "--port", str(port)]


def _books(database: Path) -> tuple[dict[int, Decimal], int, int]:
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        balances = {row.id: Decimal(str(row.balance)) for row in conn.execute(
            sa.text("SELECT id, balance FROM accounts"))}
        outcome = conn.execute(sa.text("SELECT COUNT(*) FROM outcome")).scalar_one()
        income = conn.execute(sa.text("SELECT COUNT(*) FROM income")).scalar_one()
    engine.dispose()
    return balances, outcome, income


def _transfer(base: str) -> tuple[int, Any]:
    response = httpx.post(
        f"{base}/api/messages/", timeout=WAIT, headers={"Authorization": f"Bearer {TOKEN}"},
        json={"name": "execute_action", "params": {
            "model": "income", "name": "account_transfer",
            "params": {"account_from": PETTY_CASH, "account_to": SAVINGS,
                       "amount_from": str(AMOUNT), "amount_to": str(AMOUNT)}}})
    return response.status_code, response.json()


def test_twenty_concurrent_transfers_succeed_as_often_as_the_balance_allows(
        tmp_path: Path) -> None:
    with serving(_flexorm, tmp_path / "server.log", cwd=tmp_path,
                 env={"FLEXORM_TOKEN": TOKEN}) as base:
        database = tmp_path / "flexorm-demo.db"
        before, outcome_before, income_before = _books(database)
        allowed = int(before[PETTY_CASH] // AMOUNT)
        answers = at_once([lambda: _transfer(base) for _ in range(CLICKS)])
    succeeded = [body for status, body in answers if status == 200]
    refused = [body for status, body in answers if status == 400]
    assert succeeded == [{"result": True}] * allowed
    assert len(refused) == CLICKS - allowed
    assert all("insufficient funds" in body["non_field_errors"][0] for body in refused)
    after, outcome_after, income_after = _books(database)
    assert after[PETTY_CASH] == before[PETTY_CASH] - allowed * AMOUNT >= 0
    assert after[SAVINGS] == before[SAVINGS] + allowed * AMOUNT
    assert sum(after.values()) == sum(before.values())
    assert (outcome_after - outcome_before, income_after - income_before) == (allowed, allowed)
