"""Declaring actions: eager checks of options and signatures, the @action method decorator."""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Annotated

import pytest
import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flexorm.actions import ActionContext, ModelRef, action, collect_model_actions, declare
from flexorm.exceptions import ConfigurationError

Account = ModelRef("accounts")


def body(order, note: str = "") -> None: ...


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "orders", "bulk": True}, "bulk=True needs for_instance=True"),
        ({"for_instance": True}, "for_instance=True needs a model"),
        ({"fields": ["status"]}, "needs a model"),
        ({"model": []}, "empty list"),
        ({"model": ["orders", "orders"]}, "listed twice"),
        ({"model": 42}, "collection name or a mapped class"),
        ({"model": "orders", "fields": ["a", "a"]}, "listed twice in fields"),
        ({"model": "orders", "fields": "status"}, "list of column names"),
        ({"options": {"note": "not callable"}}, "not callable"),
        ({"model": "orders", "skip_locked": True}, "skip_locked=True needs for_instance"),
        ({"model": "orders", "for_instance": True, "skip_locked": True, "writes": False},
         "locks nothing"),
        ({"model": "orders", "for_instance": True, "skip_locked": "yes"}, "True or False"),
        ({"retries": -1}, "retries must be a whole number"),
        ({"retries": True}, "retries must be a whole number"),
    ],
)
def test_contradictory_options_are_refused_naming_the_action(options, message):
    with pytest.raises(ConfigurationError, match=message) as info:
        declare(body, **options)
    assert "'body'" in str(info.value)


class Thing:
    pass


def test_unsupported_annotation_names_action_and_parameter():
    def bad(when: Thing) -> None: ...

    with pytest.raises(ConfigurationError, match=r"action 'bad': parameter 'when' .*Thing"):
        declare(bad)


def test_union_of_two_types_is_unsupported():
    def bad(value: int | str) -> None: ...

    with pytest.raises(ConfigurationError, match="parameter 'value'"):
        declare(bad)


def test_infinite_numbers_are_refused_when_declared():
    def bad(ratio: Annotated[float, Field(gt=0, allow_inf_nan=True)]) -> None: ...

    def worse(amount: Annotated[Decimal | None, Field(allow_inf_nan=True)] = None) -> None: ...

    with pytest.raises(ConfigurationError, match=r"action 'bad': parameter 'ratio' allows "):
        declare(bad)
    with pytest.raises(ConfigurationError, match=r"action 'worse': parameter 'amount' allows "):
        declare(worse)


def with_ids(ids: str | None = None) -> None: ...


def with_inverse(inverseIds: bool = False) -> None: ...


@pytest.mark.parametrize(("body", "name"), [(with_ids, "ids"), (with_inverse, "inverseIds")])
def test_a_parameter_may_not_be_named_like_the_selection_jet_admin_sends_inside_params(body, name):
    def lookup(**values: typing.Any) -> None: ...

    with pytest.raises(ConfigurationError,
                       match=f"action '{body.__name__}': a parameter may not be named '{name}'"):
        declare(body)
    with pytest.raises(ConfigurationError, match=f"named '{name}'"):
        declare(lookup, model="t", fields=[name])


def test_missing_annotation_is_refused():
    def bad(value) -> None: ...

    with pytest.raises(ConfigurationError, match="'value' has no type annotation"):
        declare(bad)


def test_star_args_are_refused():
    def bad(*values: int) -> None: ...

    with pytest.raises(ConfigurationError, match="passable by keyword"):
        declare(bad)


def test_lambda_needs_a_name():
    with pytest.raises(ConfigurationError, match="needs a name"):
        declare(lambda: None)
    assert declare(lambda: None, name="noop").name == "noop"


def test_record_action_needs_a_record_parameter():
    def bad(*, note: str) -> None: ...

    with pytest.raises(ConfigurationError, match="first parameter receives the record"):
        declare(bad, model="orders", for_instance=True)


def test_fields_need_a_parameter_or_values():
    def bad(orders) -> None: ...

    with pytest.raises(ConfigurationError, match=r"\['status'\] from fields= need"):
        declare(bad, model="orders", for_instance=True, bulk=True, fields=["status"])

    def named(orders, status) -> None: ...

    declared = declare(named, model="orders", for_instance=True, bulk=True, fields=["status"])
    assert declared.signature is not None
    assert [p.kind for p in declared.signature.params] == ["field"]


def test_context_parameter_is_not_a_jet_parameter():
    def run(order, ctx: ActionContext, note: str = "") -> None: ...

    declared = declare(run, model="orders", for_instance=True)
    assert declared.signature is not None
    assert declared.signature.context == ("ctx",)
    assert [p.name for p in declared.signature.params] == ["note"]
    assert declared.signature.record == "order"


def test_model_ref_works_in_optional_and_string_annotations():
    assert (Account | None) == typing.Optional[Account]  # noqa: UP045
    assert (None | Account) == typing.Optional[Account]  # noqa: UP045

    def transfer(src: Account, dst: Account | None = None, other: Account | None = None) -> None:
        ...

    declared = declare(transfer)
    assert declared.signature is not None
    kinds = [(p.name, p.kind, p.optional) for p in declared.signature.params]
    assert kinds == [("src", "model", False), ("dst", "model", True), ("other", "model", True)]


def test_model_ref_is_not_callable_and_needs_a_name():
    with pytest.raises(TypeError):
        Account()
    with pytest.raises(ConfigurationError):
        ModelRef("")


def test_forward_reference_is_resolved_at_bind_time():
    def later(value: NotYetDefined) -> None: ...  # noqa: F821

    assert declare(later).signature is None


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10))

    @action
    def cancel(self, reason: str = "") -> None:
        self.status = "cancelled"

    @action(for_instance=True, bulk=True, label="Ship")
    @classmethod
    def ship(cls, orders: list[Order], carrier: str) -> int:
        return len(orders)

    @action
    @staticmethod
    def recount() -> int:
        return 0

    def not_an_action(self) -> None: ...


def test_collect_model_actions_reads_marked_methods():
    found = {d.name: d for d in collect_model_actions([Order])}
    assert set(found) == {"cancel", "ship", "recount"}
    assert found["cancel"].for_instance
    assert not found["cancel"].bulk
    assert found["cancel"].models == (Order,)
    assert found["ship"].for_instance
    assert found["ship"].bulk
    assert found["ship"].label == "Ship"
    assert found["ship"].func(["a", "b"], carrier="x") == 2  # bound to the class
    assert not found["recount"].for_instance
    assert found["recount"].func() == 0


def test_bulk_instance_method_is_refused():
    class Bad(Base):
        __tablename__ = "bad"
        id: Mapped[int] = mapped_column(primary_key=True)

        @action(bulk=True)
        def ship(self) -> None: ...

    with pytest.raises(ConfigurationError, match="classmethod or staticmethod"):
        collect_model_actions([Bad])
