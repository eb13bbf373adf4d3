"""Reflection at scale: 1,000, 3,000 and 10,000 generated tables on SQLite, PostgreSQL, MariaDB.

For each database and size (schemas from :mod:`bench.bigschema`: 12-26 columns and 0-3 foreign
keys per table), each figure in a fresh process, with its time and peak RSS:

- **cold**: reflect the schema (what a start without a cache does before it answers); then,
  timed apart, encode the model descriptions answer (what the first request for it costs);
- **warm**: the same through a current reflection cache (one fingerprint query, the cached
  schema loaded);
- **bare**: SQLAlchemy's batched inspector alone (``get_multi_columns``, ``_pk_constraint``,
  ``_foreign_keys``), stopped at ``--bare-limit`` seconds ("over N s");
- **floor**: flexorm's catalog queries alone, rows fetched and dropped: what the database
  answers, with no Python objects built;
- **serve**: ``flexorm serve`` on the largest size, from start to the first answered
  ``get_action_list`` (empty cache), then ``/api/model_descriptions/`` fetched; its peak RSS.

On PostgreSQL the largest size is measured a second time spread over ``--pg-schemas`` schemas
(10 by default: the multi-tenant layout, a schema per customer), all of them reflected.

``python -m bench.scale [--sizes 1000,3000,10000] [--dialects sqlite,postgresql,mariadb]``; also
part of ``python -m bench`` (``--no-scale`` leaves it out).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench import bigschema, server
from bench import schemas as schemas_module

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1000, 3000, 10000)
PARTIAL = ROOT / "bench" / "results" / "scale.partial.json"


def _peak_rss(kind: str, url: str, env: dict[str, str], limit: float | None) -> dict[str, Any]:
    """A probe with its peak RSS (``/usr/bin/time``-like, through ``wait4``)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.scale_probe", kind, url], cwd=ROOT, env=full_env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if limit is not None and time.perf_counter() - started > limit:
            process.kill()
            os.wait4(process.pid, 0)
            return {"seconds": None, "limit": limit, "rss_mib": None}
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    out = process.stdout.read() if process.stdout else b""
    if process.returncode:
        raise RuntimeError(f"probe {kind} failed on {url}")
    measured = json.loads(out)
    if measured.get("rss_mib") is None:  # no /proc: the child's rusage, less exact
        measured["rss_mib"] = usage.ru_maxrss / 1024
    return dict(measured)


def _serve(url: str, env: dict[str, str]) -> dict[str, Any]:
    """``flexorm serve``: seconds to the first get_action_list, then peak RSS once the model
    descriptions were asked for."""
    for file in Path(env["FLEXORM_CACHE_DIR"]).glob("*"):
        file.unlink()
    port = server.free_port()
    with server.serve(server.serve_command(url, port), env, port, timeout=600) as running:
        ready = running.ready - running.started
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/model_descriptions/",
            headers={"Authorization": f"Bearer {server.TOKEN}"})
        with urllib.request.urlopen(request, timeout=600) as response:
            size = len(response.read())
        peak = 0.0
        for line in Path(f"/proc/{running.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return {"seconds": ready, "rss_mib": peak, "bytes": size}


@contextlib.contextmanager
def _servers(dialects: list[str], console: Console) -> Iterator[dict[str, str]]:
    """A server URL per dialect (SQLite: a folder)."""
    found: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        for dialect in dialects:
            try:
                if dialect == "postgresql":
                    from devservers.postgres import running_server as pg

                    found[dialect] = stack.enter_context(pg())
                elif dialect == "mariadb":
                    from devservers.mariadb import running_server as maria

                    found[dialect] = stack.enter_context(maria())
                else:
                    found[dialect] = stack.enter_context(tempfile.TemporaryDirectory())
            except Exception as exc:
                console.print(f"[yellow]{dialect} skipped: {exc}[/]")
        yield found


def _database(dialect: str, base: str, size: int, stack: contextlib.ExitStack,
              spread: int = 0) -> str:
    name = f"flexorm_scale_{size}" + (f"_in_{spread}" if spread else "")
    if dialect == "sqlite":
        return f"sqlite:///{Path(base) / (name + '.db')}"
    if dialect == "postgresql":
        return stack.enter_context(schemas_module.postgres_databases(base, [name]))[name]
    url = sa.make_url(base).set(drivername="mysql+pymysql")
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{name}`")
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _create(url: str, size: int, schemas: int = 0) -> None:
    """``size`` tables in the default schema, or spread over ``schemas`` schemas ``s0``..."""
    if schemas:
        for n in range(schemas):
            bigschema.create(url, size // schemas, schema=f"s{n}")
    else:
        bigschema.create(url, size)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the served app's actions need their table
        conn.exec_driver_sql(list(schemas_module.ddl(0))[-1])
    engine.dispose()
    schemas_module.upgrade(url)  # flexorm's own tables, as a user sets them up once


def _measure_one(dialect: str, url: str, size: int, env: dict[str, str], bare_limit: float,
                 serve: bool) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for file in Path(env["FLEXORM_CACHE_DIR"]).glob("*"):
        file.unlink()
    row["floor"] = _peak_rss("floor", url, env, None)
    row["cold"] = _peak_rss("cold", url, env, None)
    if dialect != "mariadb":  # MySQL and MariaDB have no fingerprint: no cache
        _peak_rss("fill", url, env, None)
        row["warm"] = _peak_rss("warm", url, env, None)
    row["bare"] = _peak_rss("bare", url, env, bare_limit)
    if serve:
        row["serve"] = _serve(url, env)
    return row


def measure(dialects: list[str], sizes: list[int], bare_limit: float,
            console: Console, pg_schemas: int = 10) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with _servers(dialects, console) as bases, contextlib.ExitStack() as stack, \
            tempfile.TemporaryDirectory() as cache:
        env = {"FLEXORM_CACHE_DIR": cache}
        for dialect, base in bases.items():
            layouts = [(size, 0) for size in sizes]
            if dialect == "postgresql" and pg_schemas > 1:
                layouts.append((max(sizes), pg_schemas))
            for size, spread in layouts:
                url = _database(dialect, base, size, stack, spread)
                where = f" in {spread} schemas" if spread else ""
                console.log(f"scale: creating {size:,} tables{where} on {dialect}")
                _create(url, size, spread)
                console.log(f"scale: measuring {dialect} {size:,}{where}")
                run_env = env
                if spread:  # every tenant schema, and the default one the app's table is in
                    run_env = {**env, "FLEXORM_SCHEMAS": ",".join(
                        ["public", *(f"s{n}" for n in range(spread))])}
                row = _measure_one(dialect, url, size, run_env, bare_limit,
                                   serve=size == max(sizes))
                row.update(dialect=dialect, tables=size, schemas=spread or 1)
                results.append(row)
                console.log(f"scale: {dialect} {size:,}{where}: {json.dumps(row)}")
                PARTIAL.parent.mkdir(exist_ok=True)
                PARTIAL.write_text(json.dumps(results, indent=2))
                if dialect == "sqlite":
                    Path(sa.make_url(url).database or "").unlink(missing_ok=True)
    return results


def _seconds(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return "no cache"
    if figure["seconds"] is None:
        return f"over {figure['limit']:.0f} s"
    return f"{figure['seconds']:.2f} s"


def _mib(figure: dict[str, Any] | None) -> str:
    return "" if figure is None or figure.get("rss_mib") is None else f"{figure['rss_mib']:.0f}"


def render(results: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="reflection at scale (time; peak RSS in MiB)", title_justify="left")
    for heading in ("database", "tables", "cold", "RSS", "warm", "RSS", "descriptions",
                    "bare inspector", "RSS", "floor", "cold / floor", "cold / cold 1k",
                    "bare / cold"):
        table.add_column(heading, justify="right")
    first: dict[str, float] = {}
    for row in results:
        dialect, size, spread = row["dialect"], row["tables"], row["schemas"]
        cold, floor, bare = row["cold"]["seconds"], row["floor"]["seconds"], row["bare"]
        first.setdefault(dialect, cold)
        bare_ratio = (f"{bare['seconds'] / cold:.1f}x" if bare["seconds"] is not None
                      else f"> {bare['limit'] / cold:.0f}x")
        tables = f"{size:,}" + (f" in {spread} schemas" if spread > 1 else "")
        table.add_row(dialect, tables, _seconds(row["cold"]), _mib(row["cold"]),
                      _seconds(row.get("warm")), _mib(row.get("warm")),
                      f"{row['cold']['encode_seconds']:.2f} s", _seconds(bare), _mib(bare),
                      _seconds(row["floor"]), f"{cold / floor:.1f}x",
                      f"{cold / first[dialect]:.1f}x", bare_ratio)
    console.print(table)
    for row in results:
        if "serve" in row:
            serve = row["serve"]
            where = f" in {row['schemas']} schemas" if row["schemas"] > 1 else ""
            console.print(f"flexorm serve, {row['dialect']} {row['tables']:,} tables{where}: "
                          f"first get_action_list after {serve['seconds']:.1f} s (cold), peak "
                          f"RSS {serve['rss_mib']:.0f} MiB with the model descriptions answered "
                          f"({serve['bytes'] / 2**20:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--dialects", default="sqlite,postgresql,mariadb")
    parser.add_argument("--bare-limit", type=float, default=120.0,
                        help="seconds after which the bare inspector is stopped")
    parser.add_argument("--pg-schemas", type=int, default=10,
                        help="PostgreSQL's largest size again, spread over this many schemas "
                             "(0: not measured)")
    args = parser.parse_args()
    console = Console(width=None if Console().is_terminal else 160)
    results = measure(args.dialects.split(","), [int(s) for s in args.sizes.split(",")],
                      args.bare_limit, console, args.pg_schemas)
    render(results, console)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
