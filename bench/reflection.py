"""How long reflection of a 1,000-table database takes, against the bare batched inspector calls.

Run: ``python bench/reflection.py [--tables N] [--postgres URL]``. Without ``--postgres`` a
throwaway PostgreSQL server is started when its binaries are installed (as the test suite does).
Prints one table: best of several runs for each dialect, flexorm's ``reflect_sync`` against
``get_multi_columns`` + ``get_multi_pk_constraint`` + ``get_multi_foreign_keys`` alone ("bare"),
and with ``get_multi_check_constraints`` too ("+checks", which flexorm also needs for value lists).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flexorm.reflection import reflect_sync
from flexorm.settings import Settings


def ddl(tables: int) -> Iterator[str]:
    for i in range(tables):
        parent = f", parent_id INTEGER REFERENCES t{i - 1} (id)" if i else ""
        yield (
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL,"
            f" status VARCHAR(10) DEFAULT 'new' CHECK (status IN ('new', 'old')),"
            f" amount NUMERIC(10, 2), created TIMESTAMP, note TEXT, flag BOOLEAN{parent})"
        )


def fill(engine: sa.Engine, tables: int) -> None:
    with engine.begin() as conn:
        for statement in ddl(tables):
            conn.exec_driver_sql(statement)


def bare(conn: sa.Connection) -> None:
    inspector = sa.inspect(conn)
    inspector.get_multi_columns(kind=ObjectKind.ANY)
    inspector.get_multi_pk_constraint(kind=ObjectKind.ANY)
    inspector.get_multi_foreign_keys(kind=ObjectKind.ANY)


def bare_with_checks(conn: sa.Connection) -> None:
    bare(conn)
    sa.inspect(conn).get_multi_check_constraints(kind=ObjectKind.ANY)


def flexorm(conn: sa.Connection) -> None:
    reflect_sync(conn, Settings())


def best(engine: sa.Engine, run: Callable[[sa.Connection], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with engine.connect() as conn:
            start = time.perf_counter()
            run(conn)
            times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def postgres(url: str | None, tables: int) -> Iterator[sa.Engine | None]:
    if url is None:
        try:
            from tests._postgres import PostgresUnavailable, running_server
        except ImportError:
            yield None
            return
        try:
            with running_server() as server, postgres(server, tables) as engine:
                yield engine
        except PostgresUnavailable:
            yield None
        return
    parsed = sa.make_url(url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS flexorm_bench")
        conn.exec_driver_sql("CREATE DATABASE flexorm_bench")
    engine = sa.create_engine(parsed.set(database="flexorm_bench"))
    try:
        fill(engine, tables)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS flexorm_bench WITH (FORCE)")
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="a server URL whose user may create databases")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{folder}/bench.db")
        fill(engine, args.tables)
        rows.append(("sqlite", *(best(engine, run, args.repeat)
                                 for run in (bare, bare_with_checks, flexorm))))
        engine.dispose()
    with postgres(args.postgres, args.tables) as pg_engine:
        if pg_engine is not None:
            rows.append(("postgresql", *(best(pg_engine, run, args.repeat)
                                         for run in (bare, bare_with_checks, flexorm))))

    print(f"{args.tables} tables, best of {args.repeat}")
    print(f"{'dialect':<12}{'bare':>9}{'+checks':>10}{'flexorm':>10}{'flexorm/bare':>14}")
    for dialect, bare_s, checks_s, flexorm_s in rows:
        print(f"{dialect:<12}{bare_s:>8.3f}s{checks_s:>9.3f}s{flexorm_s:>9.3f}s"
              f"{flexorm_s / bare_s:>14.2f}")


if __name__ == "__main__":
    main()
