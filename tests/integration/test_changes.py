"""ChangeCollector on SQLite, PostgreSQL and MariaDB: ORM flushes and statements run through the
session, counted and listed exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from flexorm.actions.changes import ChangeCollector, Changes
from tests.conftest import sync_engine


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column("label", sa.String(40))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    stock: Mapped[int] = mapped_column(default=0)


pairs = sa.Table(
    "pairs", Base.metadata,
    sa.Column("a", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("b", sa.String(10), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)

class Pair(Base):
    __table__ = pairs


loose = sa.Table("loose", Base.metadata, sa.Column("n", sa.Integer), sa.Column("s", sa.String(5)))

ITEMS = 300


@pytest.fixture
def engine(any_url):
    engine = sync_engine(any_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(Item.__table__.insert(), [
            {"label": f"item {i}", "price": Decimal(i), "stock": i % 7}
            for i in range(1, ITEMS + 1)])
        conn.execute(pairs.insert(), [{"a": i // 3, "b": f"b{i % 3}", "n": i}
                                      for i in range(30)])
        conn.execute(loose.insert(), [{"n": i, "s": "x"} for i in range(10)])
    yield engine
    engine.dispose()


def collected(engine, work, *, shown: int = 20) -> Changes:
    """Run ``work(session)`` in a transaction that is rolled back; what it changed."""
    with Session(engine) as session:
        session.begin()
        with ChangeCollector(session, shown=shown) as collector:
            work(session)
            session.flush()
        session.rollback()
    return collector.changes


def rows_of(changes: Changes, table: str) -> list[tuple]:
    return [(row.key, row.change, row.columns) for row in changes.tables[table].rows]


def test_orm_edits_inserts_and_deletes_are_counted_once_and_listed(engine):
    def work(session: Session) -> None:
        items = session.scalars(sa.select(Item).where(Item.id <= 5).order_by(Item.id)).all()
        items[0].stock = 100
        items[1].name = "renamed"
        items[1].price = Decimal("2.50")
        session.flush()
        items[0].stock = 101  # a second flush of the same row: one update, first before
        items[2].stock = items[2].stock  # set to the same value: no change
        session.delete(items[3])
        session.add(Item(id=1001, name="new", price=Decimal("9.99"), stock=3))

    changes = collected(engine, work)
    assert changes.counts() == {"items": {"inserted": 1, "updated": 2, "deleted": 1}}
    listed = rows_of(changes, "items")
    assert listed[0] == (1, "updated", {"stock": [1, 101]})
    assert listed[1] == (2, "updated", {"label": ["item 2", "renamed"],
                                        "price": [Decimal(2), Decimal("2.50")]})
    # a flush lists what it inserted, then updated, then deleted
    assert listed[2] == (1001, "inserted", {"id": [None, 1001], "label": [None, "new"],
                                            "price": [None, Decimal("9.99")],
                                            "stock": [None, 3]})
    assert listed[3] == (4, "deleted", {"id": [4, None], "label": ["item 4", None],
                                        "price": [Decimal(4), None], "stock": [4, None]})


def test_orm_rows_over_the_listing_limit_are_counted_not_listed(engine):
    def work(session: Session) -> None:
        for item in session.scalars(sa.select(Item)):
            item.stock += 1

    changes = collected(engine, work, shown=3)
    assert changes.counts() == {"items": {"inserted": 0, "updated": ITEMS, "deleted": 0}}
    assert [row.key for row in changes.tables["items"].rows] == [1, 2, 3]
    assert changes.tables["items"].rows[2].columns == {"stock": [3, 4]}


def test_orm_insert_then_delete_is_no_change_and_generated_keys_are_listed(engine):
    def work(session: Session) -> None:
        gone = Item(name="temporary", price=Decimal(1))
        kept = Item(name="kept", price=Decimal(2))
        session.add_all([gone, kept])
        session.flush()
        session.delete(gone)

    changes = collected(engine, work)
    assert changes.counts() == {"items": {"inserted": 1, "updated": 0, "deleted": 0}}
    [(key, change, columns)] = rows_of(changes, "items")
    assert change == "inserted"
    assert key > ITEMS
    assert columns["label"] == [None, "kept"]


def test_core_update_and_delete_over_many_rows(engine):
    items = Item.__table__

    def work(session: Session) -> None:
        session.execute(items.delete().where(items.c.id <= 10))
        session.execute(items.update().where(items.c.id > 50).values(stock=items.c.stock + 1))
        session.execute(items.update().where(items.c.id == -1).values(stock=0))  # no row

    changes = collected(engine, work, shown=25)
    assert changes.counts() == {"items": {"inserted": 0, "updated": ITEMS - 50, "deleted": 10}}
    listed = rows_of(changes, "items")
    assert len(listed) == 25
    assert [(key, change) for key, change, _ in listed[:10]] == [
        (key, "deleted") for key in range(1, 11)]
    assert listed[0][2]["label"] == ["item 1", None]
    assert [key for key, _, _ in listed[10:]] == list(range(51, 66))
    assert listed[10] == (51, "updated", {"stock": [51 % 7, 51 % 7 + 1]})


def test_orm_enabled_update_delete_and_bulk_insert(engine):
    def work(session: Session) -> None:
        session.execute(sa.update(Item).where(Item.price >= 290).values(name="dear"))
        session.execute(sa.delete(Item).where(Item.id.in_([1, 2, 3])))
        session.execute(sa.insert(Item), [{"name": f"bulk {i}", "price": Decimal(i)}
                                          for i in range(40)])

    changes = collected(engine, work, shown=5)
    assert changes.counts() == {"items": {"inserted": 40, "updated": 11, "deleted": 3}}
    listed = rows_of(changes, "items")
    assert listed[0] == (290, "updated", {"label": ["item 290", "dear"]})


def test_core_insert_listed_by_key_and_pending_orm_changes_flushed_first(engine):
    items = Item.__table__

    def work(session: Session) -> None:
        item = session.get(Item, 7)
        assert item is not None
        item.stock = 50  # pending: the ORM update below flushes it first
        session.execute(sa.update(Item).where(Item.stock == 50).values(stock=51))
        session.execute(items.insert().values(id=2000, label="one", price=1, stock=1))
        session.execute(items.insert(), [{"id": 3000 + i, "label": "many", "price": i}
                                         for i in range(3)])

    changes = collected(engine, work)
    listed = rows_of(changes, "items")
    assert changes.counts() == {"items": {"inserted": 4, "updated": 2, "deleted": 0}}
    assert listed[0] == (7, "updated", {"stock": [0, 50]})
    assert listed[1] == (7, "updated", {"stock": [50, 51]})
    assert [(key, change) for key, change, _ in listed[2:]] == [
        (2000, "inserted"), (3000, "inserted"), (3001, "inserted"), (3002, "inserted")]
    assert listed[3][2]["label"] == [None, "many"]


def test_composite_keys_keyless_tables_and_text_statements(engine):
    def work(session: Session) -> None:
        session.execute(pairs.update().where(pairs.c.a == 2).values(n=pairs.c.n * 10))
        session.execute(loose.delete().where(loose.c.n < 3))
        session.execute(loose.update().values(s="y"))
        session.execute(sa.text("UPDATE pairs SET n = 0 WHERE a >= :a"), {"a": 8})
        session.execute(sa.text("DELETE FROM loose WHERE n = 9"))
        session.execute(sa.text("INSERT INTO loose (n, s) VALUES (1, 'z')"))

    changes = collected(engine, work)
    assert changes.counts() == {
        "loose": {"inserted": 1, "updated": 7, "deleted": 4},
        "pairs": {"inserted": 0, "updated": 3 + 6, "deleted": 0},
    }
    assert rows_of(changes, "pairs") == [
        ([2, "b0"], "updated", {"n": [6, 60]}),
        ([2, "b1"], "updated", {"n": [7, 70]}),
        ([2, "b2"], "updated", {"n": [8, 80]}),
    ]
    assert rows_of(changes, "loose") == [
        (None, "deleted", {"n": [n, None], "s": ["x", None]}) for n in range(3)]


def test_returning_statements_are_counted(engine):
    items = Item.__table__

    def work(session: Session) -> None:
        if session.get_bind().dialect.update_returning:
            found = session.execute(items.update().where(items.c.id <= 4).values(stock=0)
                                    .returning(items.c.id)).all()
            assert len(found) == 4
        else:
            session.execute(items.update().where(items.c.id <= 4).values(stock=0))
        if session.get_bind().dialect.delete_returning:
            session.execute(items.delete().where(items.c.id > 295).returning(items.c.id)).all()
        else:
            session.execute(items.delete().where(items.c.id > 295))

    changes = collected(engine, work)
    assert changes.counts() == {"items": {"inserted": 0, "updated": 4, "deleted": 5}}


def test_collector_stops_listening_and_json_encodes(engine):
    with Session(engine) as session:
        session.begin()
        with ChangeCollector(session, shown=1) as collector:
            session.execute(sa.update(Item).where(Item.id == 1).values(price=Decimal("0.5")))
        session.execute(sa.update(Item).where(Item.id == 2).values(price=0))
        session.rollback()
    answer = collector.changes.as_json(lambda value: str(value) if isinstance(value, Decimal)
                                       else value)
    assert answer == {"items": {"inserted": 0, "updated": 1, "deleted": 0, "rows": [
        {"key": 1, "change": "updated", "columns": {"price": ["1.00", "0.50"]}}]}}
    assert collector.changes.total == 1


def test_orm_rows_with_a_composite_key(engine):
    def work(session: Session) -> None:
        pair = session.get(Pair, (1, "b2"))
        assert pair is not None
        pair.n = 99
        session.delete(session.get(Pair, (0, "b0")))
        session.add(Pair(a=100, b="new", n=1))

    changes = collected(engine, work)
    assert changes.counts() == {"pairs": {"inserted": 1, "updated": 1, "deleted": 1}}
    assert rows_of(changes, "pairs") == [  # the second get() flushed the update first
        ([1, "b2"], "updated", {"n": [5, 99]}),
        ([100, "new"], "inserted", {"a": [None, 100], "b": [None, "new"], "n": [None, 1]}),
        ([0, "b0"], "deleted", {"a": [0, None], "b": ["b0", None], "n": [0, None]}),
    ]
