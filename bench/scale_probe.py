"""One measurement of :mod:`bench.scale`, in a process of its own (so its peak RSS is its own).

``python -m bench.scale_probe KIND URL`` prints ``{"seconds": ..., "rows": ...}``; KIND is
``cold`` (reflect, then encode the model descriptions answer as the server does), ``warm`` (the
same start through a current reflection cache), ``bare`` (SQLAlchemy's batched inspector:
columns, primary keys, foreign keys) or ``floor`` (the reader's catalog queries alone). The time
counts from the first query, not the interpreter's start.
"""

from __future__ import annotations

import json
import sys
import time

import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind

from flexorm.reflection import iter_model_descriptions, reflect_sync
from flexorm.reflection.cache import reflect_cached_sync
from flexorm.reflection.dialects import reader_for
from flexorm.settings import Settings


def _encode(schema: object) -> int:
    body = b"[" + b",".join(json.dumps(d, separators=(",", ":"), default=str).encode()
                            for d in iter_model_descriptions(schema)) + b"]"  # type: ignore[arg-type]
    return len(body)


def main() -> None:
    kind, url = sys.argv[1], sys.argv[2]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connected before the clock starts
        started = time.perf_counter()
        if kind == "cold":
            rows = _encode(reflect_sync(conn, Settings(reflection_cache=False)))
        elif kind == "warm":
            outcome = reflect_cached_sync(conn, Settings())
            rows = _encode(outcome.schema) if outcome.hit else -1
        elif kind == "bare":
            inspector = sa.inspect(conn)
            rows = len(inspector.get_multi_columns(kind=ObjectKind.ANY))
            inspector.get_multi_pk_constraint(kind=ObjectKind.ANY)
            inspector.get_multi_foreign_keys(kind=ObjectKind.ANY)
        else:
            reader = reader_for(conn.dialect)
            rows = reader.fetch_only(conn, None)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"seconds": seconds, "rows": rows}))


if __name__ == "__main__":
    main()
