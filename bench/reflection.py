"""Reflection: flexorm's cold reflection and warm (cached) load vs SQLAlchemy's bare calls.

"bare" is ``get_multi_columns`` + ``get_multi_pk_constraint`` + ``get_multi_foreign_keys`` on a
fresh inspector; "flexorm cold" is ``reflect_sync`` (which also reads CHECK lists, views and
builds the records); "flexorm warm" is ``reflect_cached_sync`` finding its cache current (one
fingerprint query and loading the file).
"""

from __future__ import annotations

import os
import tempfile

import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind

from bench.stats import Sample, paired
from flexorm.reflection import reflect_sync
from flexorm.reflection.cache import reflect_cached_sync
from flexorm.settings import Settings


def bare(conn: sa.Connection) -> None:
    inspector = sa.inspect(conn)
    inspector.get_multi_columns(kind=ObjectKind.ANY)
    inspector.get_multi_pk_constraint(kind=ObjectKind.ANY)
    inspector.get_multi_foreign_keys(kind=ObjectKind.ANY)


def measure(url: str, repeat: int) -> dict[str, Sample]:
    engine = sa.create_engine(url)
    with tempfile.TemporaryDirectory() as folder:
        previous = os.environ.get("FLEXORM_CACHE_DIR")
        os.environ["FLEXORM_CACHE_DIR"] = folder
        try:
            def run(body):  # a fresh connection and inspector per run, like a start
                def go() -> None:
                    with engine.connect() as conn:
                        body(conn)
                return go

            with engine.connect() as conn:  # fill the cache
                reflect_cached_sync(conn, Settings())
            return paired({
                "bare": run(bare),
                "flexorm cold": run(lambda c: reflect_sync(c, Settings())),
                "flexorm warm": run(lambda c: reflect_cached_sync(c, Settings())),
            }, repeat)
        finally:
            if previous is None:
                os.environ.pop("FLEXORM_CACHE_DIR", None)
            else:
                os.environ["FLEXORM_CACHE_DIR"] = previous
            engine.dispose()
