"""Action policies: who may run an action, from the caller's Jet Admin claims."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flexorm.actions.context import ActionContext
from flexorm.actions.policies import (
    all_of,
    any_of,
    authenticated,
    can_read,
    can_write,
    describe,
    evaluate,
    is_write_allowed,
    owner,
    super_group,
    users,
)
from flexorm.auth.caller import Caller
from flexorm.exceptions import ConfigurationError
from flexorm.reflection.records import CollectionInfo


def _collection(name: str) -> CollectionInfo:
    return CollectionInfo(
        name=name,
        table=name.rsplit(".", 1)[-1],
        schema=None,
        is_view=False,
        columns={},
        primary_key=("id",),
        primary_key_auto=True,
        has_primary_key=True,
    )


def _ctx(caller: Caller, collection: str | None = "orders") -> ActionContext:
    return ActionContext(
        session=None,  # type: ignore[arg-type]  # policies never touch it
        caller=caller,
        collection=_collection(collection) if collection else None,
        action="refund",
    )


def _perm(target: str, actions: str, kind: str = "model") -> dict[str, Any]:
    return {"permission_type": kind, "permission_object": target, "permission_actions": actions}


def _user(*permissions: dict[str, Any], user_id: str = "42", **flags: bool) -> Caller:
    return Caller(kind="jwt", user_id=user_id, project="shop", permissions=permissions, **flags)


KEY = Caller(kind="key", key_name="key-1")
CLI = Caller(kind="cli")
INSECURE = Caller(kind="insecure")
TOKEN = Caller(kind="token", project="shop")
OWNER = _user(owner=True)
SUPER = _user(super_group=True)
READER = _user(_perm("db.orders", "r"))
WRITER = _user(_perm("db.orders", "rw"))
STRANGER = _user(_perm("db.customers", "rwd"))
READ_ONLY = _user(_perm("db.orders", "rwd"), read_only=True)
READ_ONLY_OWNER = _user(owner=True, read_only=True)


def _allows(policy: Any, caller: Caller, collection: str | None = "orders") -> bool:
    return asyncio.run(evaluate(policy, _ctx(caller, collection)))


class TestCanWrite:
    @pytest.mark.parametrize(
        "caller", [OWNER, SUPER, WRITER, KEY, CLI, INSECURE], ids=lambda c: c.kind
    )
    def test_allowed(self, caller: Caller) -> None:
        assert _allows(can_write, caller)

    @pytest.mark.parametrize(
        ("caller", "why"),
        [
            (READER, "read only permission"),
            (STRANGER, "permission on another collection"),
            (READ_ONLY, "read_only user"),
            (READ_ONLY_OWNER, "read_only owner"),
            (TOKEN, "no permissions known"),
            (_user(), "no permissions at all"),
        ],
    )
    def test_refused(self, caller: Caller, why: str) -> None:
        assert not _allows(can_write, caller), why

    def test_permission_object_without_resource_prefix(self) -> None:
        assert _allows(can_write, _user(_perm("orders", "w")))

    def test_schema_qualified_collection(self) -> None:
        caller = _user(_perm("db.sales.orders", "rw"))
        assert _allows(can_write, caller, "sales.orders")
        assert not _allows(can_write, caller, "orders")

    def test_non_model_permissions_do_not_count(self) -> None:
        assert not _allows(can_write, _user(_perm("orders", "rw", kind="project")))

    def test_common_action(self) -> None:
        assert _allows(can_write, READER, None)
        assert not _allows(can_write, READ_ONLY, None)
        assert not _allows(can_write, TOKEN, None)


class TestCanRead:
    @pytest.mark.parametrize(
        "caller", [OWNER, SUPER, READER, WRITER, READ_ONLY, KEY], ids=lambda c: repr(c.user_id)
    )
    def test_allowed(self, caller: Caller) -> None:
        assert _allows(can_read, caller)

    @pytest.mark.parametrize("caller", [STRANGER, TOKEN, _user(_perm("db.orders", "w"))])
    def test_refused(self, caller: Caller) -> None:
        assert not _allows(can_read, caller)


def test_owner_is_only_the_owner() -> None:
    assert _allows(owner, OWNER)
    for caller in (SUPER, WRITER, KEY, CLI, INSECURE, TOKEN):
        assert not _allows(owner, caller), caller.kind


def test_super_group() -> None:
    for caller in (SUPER, OWNER, KEY, CLI, INSECURE):
        assert _allows(super_group, caller), caller.kind
    for caller in (WRITER, READ_ONLY, TOKEN):
        assert not _allows(super_group, caller), caller.kind


def test_users_by_id() -> None:
    policy = users(42, "57")
    assert _allows(policy, _user(user_id="42"))
    assert _allows(policy, _user(user_id="57"))
    assert not _allows(policy, _user(user_id="420"))
    for caller in (KEY, CLI, INSECURE, TOKEN):
        assert not _allows(policy, caller), caller.kind


def test_authenticated_allows_every_verified_caller() -> None:
    for caller in (OWNER, READ_ONLY, STRANGER, KEY, CLI, INSECURE, TOKEN):
        assert _allows(authenticated, caller)


class TestCombinators:
    def test_all_of(self) -> None:
        policy = all_of(can_write, users("42"))
        assert _allows(policy, WRITER)
        assert not _allows(policy, _user(_perm("orders", "w"), user_id="7"))
        assert not _allows(policy, READER)

    def test_any_of(self) -> None:
        policy = any_of(owner, users("7"))
        assert _allows(policy, OWNER)
        assert _allows(policy, _user(user_id="7"))
        assert not _allows(policy, WRITER)

    def test_sync_policies_stay_sync(self) -> None:
        assert all_of(can_read, can_write)(_ctx(WRITER)) is True
        assert any_of(owner, super_group)(_ctx(WRITER)) is False

    def test_async_policies_are_awaited(self) -> None:
        calls: list[str] = []

        async def is_42(ctx: ActionContext) -> bool:
            calls.append("is_42")
            return ctx.caller.user_id == "42"

        def never(_ctx: ActionContext) -> bool:
            calls.append("never")
            return False

        assert _allows(all_of(can_write, is_42), WRITER)
        assert not _allows(all_of(is_42, never), WRITER)
        assert _allows(any_of(never, is_42), WRITER)
        assert calls == ["is_42", "is_42", "never", "never", "is_42"]

    def test_short_circuit(self) -> None:
        def boom(_ctx: ActionContext) -> bool:
            raise AssertionError("must not run")

        assert not _allows(all_of(owner, boom), WRITER)
        assert _allows(any_of(can_write, boom), WRITER)

    def test_only_true_allows(self) -> None:
        def truthy(_ctx: ActionContext) -> Any:
            return "yes"

        assert not _allows(truthy, OWNER)
        assert not _allows(all_of(truthy), OWNER)
        assert not _allows(any_of(truthy), OWNER)

    def test_empty_combinators_are_a_mistake(self) -> None:
        with pytest.raises(ConfigurationError, match="all_of"):
            all_of()
        with pytest.raises(ConfigurationError, match="any_of"):
            any_of()

    def test_descriptions(self) -> None:
        def vip(_ctx: ActionContext) -> bool:
            return True

        assert describe(can_write) == "write permission on the collection"
        assert describe(any_of(owner, users(1, 2))) == "the project owner or one of the users 1, 2"
        assert describe(all_of(super_group, vip)) == "a member of a Jet Admin super group and vip"


class TestIsWriteAllowed:
    def test_read_only_callers_never_write(self) -> None:
        assert not is_write_allowed(READ_ONLY, "orders")
        assert not is_write_allowed(READ_ONLY, None)
        assert not is_write_allowed(READ_ONLY_OWNER, "orders")

    def test_collection_permissions_are_a_policy_not_the_floor(self) -> None:
        # can_write is what an action opts into; the floor only keeps read_only callers out
        for caller in (WRITER, OWNER, READER, STRANGER):
            assert is_write_allowed(caller, "orders"), caller
            assert is_write_allowed(caller, None), caller
        assert not can_write(_ctx(READER, "orders"))

    def test_machines_and_token_callers(self) -> None:
        for caller in (KEY, CLI, INSECURE, TOKEN):
            assert is_write_allowed(caller, "orders"), caller.kind
