"""One measurement of :mod:`bench.scale`, in a process of its own (so its peak RSS is its own).

``python -m bench.scale_probe KIND URL`` prints ``{"seconds": ..., "rows": ...}``; KIND is
``cold`` (reflect, what a start does before it answers; then, timed apart as
``encode_seconds``, encode the model descriptions answer as the server does on its first
request), ``warm`` (the same through a current reflection cache: the fingerprint query and
loading the cached schema), ``bare`` (SQLAlchemy's batched inspector: columns, primary keys,
foreign keys), ``floor`` (the reader's catalog queries alone) or ``fill`` (store the schema in the
reflection cache, for ``warm``). The time counts from the first
query, not the interpreter's start. ``FLEXORM_SCHEMAS`` (comma-separated) names the schemas to
reflect, as it does for ``flexorm serve``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind

from flexorm.protocol.encoding import encode_json
from flexorm.reflection import encoded_model_descriptions, reflect_sync
from flexorm.reflection.cache import reflect_cached_sync
from flexorm.reflection.dialects import reader_for
from flexorm.reflection.records import SchemaInfo
from flexorm.settings import Settings


def _encode(schema: SchemaInfo) -> int:
    """The model descriptions answer, encoded as the server encodes it."""
    return len(encoded_model_descriptions(schema, encode_json))


def main() -> None:
    kind, url = sys.argv[1], sys.argv[2]
    schemas = tuple(filter(None, os.environ.get("FLEXORM_SCHEMAS", "").split(",")))
    engine = sa.create_engine(url)
    encode = None
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connected before the clock starts
        started = time.perf_counter()
        if kind == "fill":  # store the schema in the reflection cache
            rows = len(reflect_cached_sync(conn, Settings(schemas=schemas)).schema)
        elif kind in ("cold", "warm"):
            if kind == "cold":
                schema = reflect_sync(conn, Settings(reflection_cache=False, schemas=schemas))
            else:
                outcome = reflect_cached_sync(conn, Settings(schemas=schemas))
                if not outcome.hit:
                    raise SystemExit("the reflection cache missed")
                schema = outcome.schema
            seconds = time.perf_counter() - started
            rows = _encode(schema)
            encode = time.perf_counter() - started - seconds
        elif kind == "bare":
            inspector = sa.inspect(conn)
            rows = 0
            for schema in schemas or (None,):
                rows += len(inspector.get_multi_columns(schema=schema, kind=ObjectKind.ANY))
                inspector.get_multi_pk_constraint(schema=schema, kind=ObjectKind.ANY)
                inspector.get_multi_foreign_keys(schema=schema, kind=ObjectKind.ANY)
        else:
            reader = reader_for(conn.dialect)
            rows = reader.fetch_only(conn, schemas or (None,))  # type: ignore[attr-defined]
        if kind not in ("cold", "warm"):
            seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"seconds": seconds, "encode_seconds": encode, "rows": rows,
                      "rss_mib": _peak_mib()}))


def _peak_mib() -> float | None:
    """This process's peak RSS (VmHWM): the parent's rusage would count the memory of the
    process it was forked from, before the new program started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


if __name__ == "__main__":
    main()
