"""Every benchmark in one run: ``python -m bench [--postgres URL] [--quick] [--no-scale]``.

Generates schemas of 10, 200 and 1,000 tables (mixed types, foreign keys, CHECK lists) on SQLite
and on PostgreSQL (``--postgres`` names a server whose user may create databases; without it a
throwaway server is started as the test suite does, when PostgreSQL's binaries are installed).
Each flexorm figure is set against a bare baseline measured in the same run, in alternation;
figures are medians of several runs. Then reflection at scale (:mod:`bench.scale`: 1,000, 3,000
and 10,000 tables on SQLite, PostgreSQL and MariaDB; left out by ``--quick`` and ``--no-scale``).
Prints a table and writes ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench import background, bulk, interfaces, record, reflection, scale, schemas, server
from bench.stats import Sample

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One line of the table: a flexorm figure against its baseline, and the target."""

    benchmark: str
    database: str
    flexorm: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    noise: str = ""


@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str | None]:
    if url is not None:
        yield url
        return
    from devservers.postgres import PostgresUnavailable, running_server

    try:
        with running_server() as started:
            yield started
    except PostgresUnavailable as exc:
        Console(stderr=True).print(f"[yellow]PostgreSQL skipped: {exc}[/]")
        yield None


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "sqlalchemy": sa.__version__,
            "platform": platform.platform()}


def ms(sample: Sample) -> str:
    return f"{sample.median * 1000:.0f} ms"


def noise(*samples: Sample) -> str:
    return "±" + f"{max(s.spread for s in samples) * 50:.0f}%"


def run_all(args: argparse.Namespace, console: Console) -> tuple[list[Row], dict[str, Any]]:
    sizes = [10, 200] if args.quick else [10, 200, 1000]
    if args.actions_only:
        sizes = [10]
    big = sizes[-1]
    repeat = 2 if args.quick else args.repeat
    ids = 2000 if args.quick else 10000
    rows: list[Row] = []
    raw: dict[str, Any] = {"sizes": sizes, "repeat": repeat}
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.environ["FLEXORM_CACHE_DIR"] = str(folder / "cache")
        urls: dict[str, dict[int, str]] = {"sqlite": {
            n: f"sqlite:///{folder / f'bench_{n}.db'}" for n in sizes}}
        pg = stack.enter_context(postgres_server(args.postgres))
        if pg is not None:
            names = [f"flexorm_bench_{n}" for n in sizes]
            created = stack.enter_context(schemas.postgres_databases(pg, names))
            urls["postgresql"] = {n: created[f"flexorm_bench_{n}"] for n in sizes}
            raw["postgresql_version"] = _pg_version(created[names[0]])
        for dialect, by_size in urls.items():
            for n, url in by_size.items():
                console.log(f"creating {n} tables on {dialect}")
                schemas.create(url, n, ids)

        for dialect, by_size in urls.items():
            for n, url in by_size.items():
                if args.actions_only:
                    break
                console.log(f"reflection: {dialect}, {n} tables")
                result = reflection.measure(url, repeat)
                raw[f"reflection/{dialect}/{n}"] = {k: v.as_json() for k, v in result.items()}
                cold, warm, bare = result["flexorm cold"], result["flexorm warm"], result["bare"]
                ratio = cold.median / bare.median
                at_target = n == 1000
                rows.append(Row("reflection, cold", f"{dialect} {n}", ms(cold), ms(bare), ratio,
                                "≤ 1.3x bare" if at_target else "", ratio <= 1.3
                                if at_target else None, noise(cold, bare)))
                rows.append(Row("reflection, warm (cache)", f"{dialect} {n}", ms(warm),
                                ms(bare), warm.median / bare.median, "", None,
                                noise(warm, bare)))

        for dialect, by_size in urls.items():
            if args.actions_only:
                break
            url = by_size[big]
            console.log(f"startup: {dialect}, {big} tables")
            result = server.startup(url, 1 if args.quick else 3)
            raw[f"startup/{dialect}/{big}"] = {k: v.as_json() for k, v in result.items()}
            warm, cold, rss = result["warm"], result["cold"], result["rss"]
            rows.append(Row("start → first get_action_list, warm", f"{dialect} {big}",
                            f"{warm.median:.2f} s", "", None, "< 1 s", warm.median < 1.0,
                            noise(warm)))
            rows.append(Row("start → first get_action_list, cold", f"{dialect} {big}",
                            f"{cold.median:.2f} s", "", None, "", None, noise(cold)))
            rows.append(Row("resident memory (RSS)", f"{dialect} {big}",
                            f"{rss.median:.0f} MiB", "", None, "< 150 MiB", rss.median < 150))

        if not args.actions_only:
            rows.extend(_throughput(urls["sqlite"][big], big, args, raw, console))

        for dialect, by_size in urls.items():
            console.log(f"per-record action, {record.CALLS} calls: {dialect}")
            result = record.measure(by_size[sizes[0]], repeat)
            flex_t, bare_t = result["flexorm"], result["bare"]
            raw[f"record/{dialect}"] = {"flexorm": flex_t.as_json(), "bare": bare_t.as_json()}
            rows.append(Row(f"execute_action per record, {record.CALLS} calls", dialect,
                            ms(flex_t), ms(bare_t), flex_t.median / bare_t.median, "", None,
                            noise(flex_t, bare_t)))

        for journal in (True, False):
            setting = "journal on" if journal else "journal off"
            console.log(f"one action, three interfaces: {setting}")
            calls = interfaces.measure(urls["sqlite"][sizes[0]], 2 if args.quick else 5,
                                       requests=500 if args.quick else 2000, journal=journal)
            raw[f"interfaces/{setting}"] = {
                name: {"p50": r["p50"].as_json(), "errors": r["errors"]}
                for name, r in calls.items()}
            for name in ("execute_action", "execute_action, with arguments"):
                base = calls[name]["p50"]
                rows.append(Row(f"{name} per call (p50)", f"sqlite, {setting}",
                                f"{base.median * 1000:.2f} ms", "", None, "", None, noise(base)))
            for name, (target, against) in interfaces.TARGETS.items():
                base = calls[against]["p50"]
                sample = calls[name]["p50"]
                ratio = sample.median / base.median
                rows.append(Row(f"  {name} per call", f"sqlite, {setting}",
                                f"{sample.median * 1000:.2f} ms",
                                f"{base.median * 1000:.2f} ms", ratio,
                                f"≤ {target}x execute_action", ratio <= target,
                                noise(sample, base)))

        for dialect, by_size in urls.items():
            console.log(f"bulk action over {ids} ids: {dialect}")
            result = bulk.measure(by_size[sizes[0]], ids, repeat)
            flex_t, bare_t = result["flexorm"], result["bare"]
            raw[f"bulk/{dialect}"] = {"flexorm": flex_t.as_json(), "bare": bare_t.as_json(),
                                      "statements": result["statements"]}
            ratio = flex_t.median / bare_t.median
            rows.append(Row(f"execute_action bulk, {ids} ids", dialect, ms(flex_t), ms(bare_t),
                            ratio, "≤ 1.5x bare", ratio <= 1.5, noise(flex_t, bare_t)))
            dry_t = result["dry_run"]
            raw[f"bulk/{dialect}"]["dry_run"] = dry_t.as_json()
            dry_ratio = dry_t.median / flex_t.median
            rows.append(Row("  dry run of it (vs the real run)", dialect, ms(dry_t),
                            ms(flex_t), dry_ratio, "≤ 1.5x real", dry_ratio <= 1.5,
                            noise(dry_t, flex_t)))
            stmts = result["statements"]
            rows.append(Row("  statements", dialect, _verbs(stmts["flexorm"]),
                            _verbs(stmts["bare"]), None, "1 SELECT per 1,000 ids",
                            stmts["flexorm"].get("SELECT", 0) <= -(-ids // bulk.CHUNK)))
        for dialect, by_size in urls.items():
            if args.actions_only:
                break
            console.log(f"background execute_action answer time: {dialect}")
            answers = background.answer_times(by_size[sizes[0]], 100 if args.quick else 500)
            raw[f"background_answer/{dialect}"] = answers
            later, now = answers["later"], answers["now"]
            rows.append(Row("background execute_action p50 / p99", dialect,
                            f"{later['p50_ms']:.1f} / {later['p99_ms']:.1f} ms",
                            f"{now['p50_ms']:.1f} / {now['p99_ms']:.1f} ms (direct run)",
                            None, "", None))
        if "postgresql" in urls and not args.actions_only:
            console.log("background runs through one worker: postgresql")
            runs = 200 if args.quick else 1000
            result = background.throughput(urls["postgresql"][sizes[0]], runs,
                                           2 if args.quick else repeat)
            flex_r, bare_r = result["flexorm"], result["bare"]
            raw["background_throughput"] = {k: v.as_json() for k, v in result.items()}
            ratio = flex_r.ratio_to(bare_r)
            rows.append(Row(f"background runs/s, one worker ({runs} runs)", "postgresql",
                            f"{flex_r.median:.0f}/s", f"{bare_r.median:.0f}/s (procrastinate)",
                            ratio, "≥ 0.7x bare", ratio >= 0.7, noise(flex_r, bare_r)))
            tuned_r = result["tuned"]
            rows.append(Row("  the same, beside procrastinate on flexorm's connector",
                            "postgresql", f"{flex_r.median:.0f}/s",
                            f"{tuned_r.median:.0f}/s (procrastinate, tuned)",
                            flex_r.ratio_to(tuned_r), "", None,
                            noise(flex_r, tuned_r)))
            for key, label in (("tuned", "  procrastinate on flexorm's connector"),
                               ("floor", "  floor: procrastinate + 1 committed UPDATE/job"),
                               ("raw", "  floor: procrastinate + claim + completion, raw driver")):
                floor_r = result[key]
                rows.append(Row(label, "postgresql", f"{floor_r.median:.0f}/s",
                                f"{bare_r.median:.0f}/s (procrastinate)",
                                floor_r.ratio_to(bare_r), "", None,
                                noise(floor_r, bare_r)))
            console.log("background runs through one worker, concurrency 4: postgresql")
            wide = background.throughput(urls["postgresql"][sizes[0]], runs,
                                         2 if args.quick else repeat, concurrency=4)
            raw["background_throughput_concurrency_4"] = {k: v.as_json()
                                                          for k, v in wide.items()}
            flex_w, bare_w = wide["flexorm"], wide["bare"]
            ratio_w = flex_w.ratio_to(bare_w)
            rows.append(Row("  the same, --concurrency 4", "postgresql",
                            f"{flex_w.median:.0f}/s", f"{bare_w.median:.0f}/s (procrastinate)",
                            ratio_w, "≥ 0.7x bare", ratio_w >= 0.7, noise(flex_w, bare_w)))
    if not (args.quick or args.no_scale or args.actions_only):
        results = scale.measure(["sqlite", "postgresql", "mariadb"], list(scale.SIZES),
                                args.bare_limit, console)
        raw["scale"] = results
        rows.extend(scale_rows(results))
    return rows, raw


def scale_rows(results: list[dict[str, Any]]) -> list[Row]:
    """The lines of :mod:`bench.scale`'s figures, with the targets of large schemas."""
    rows: list[Row] = []
    smallest: dict[str, float] = {}
    for figures in results:
        dialect, size = figures["dialect"], figures["tables"]
        where = f"{dialect} {size:,}" + (f" in {figures['schemas']} schemas"
                                         if figures["schemas"] > 1 else "")
        cold, floor, bare = figures["cold"], figures["floor"], figures["bare"]
        smallest.setdefault(dialect, cold["seconds"])
        largest = size == max(scale.SIZES)
        bare_text = (f"over {bare['limit']:.0f} s" if bare["seconds"] is None
                     else f"{bare['seconds']:.2f} s")
        bare_ratio = (bare["limit"] if bare["seconds"] is None else bare["seconds"]) / cold[
            "seconds"]
        wanted = largest and dialect == "sqlite"
        rows.append(Row("scale: cold (bare inspector)", where,
                        f"{cold['seconds']:.2f} s, {cold['rss_mib']:.0f} MiB", bare_text,
                        1 / bare_ratio, "≥ 10x faster" if wanted else "",
                        bare_ratio >= 10 if wanted else None))
        rows.append(Row("scale: cold vs the catalog queries", where,
                        f"{cold['seconds']:.2f} s", f"{floor['seconds']:.2f} s",
                        cold["seconds"] / floor["seconds"], "≤ 4x" if largest else "",
                        cold["seconds"] / floor["seconds"] <= 4 if largest else None))
        if "warm" in figures:
            rows.append(Row("scale: warm (cache)", where,
                            f"{figures['warm']['seconds']:.2f} s, "
                            f"{figures['warm']['rss_mib']:.0f} MiB", "", None, "", None))
        if largest:
            growth = cold["seconds"] / smallest[dialect]
            rows.append(Row("scale: cold 10,000 vs 1,000 tables", where,
                            f"{cold['seconds']:.2f} s", f"{smallest[dialect]:.2f} s", growth,
                            "≤ 12x", growth <= 12))
        if "serve" in figures:
            serve = figures["serve"]
            rows.append(Row("scale: flexorm serve peak RSS", where,
                            f"{serve['rss_mib']:.0f} MiB (ready {serve['seconds']:.1f} s)", "",
                            None, "< 400 MiB", serve["rss_mib"] < 400))
    return rows


def _throughput(url: str, big: int, args: argparse.Namespace, raw: dict[str, Any],
                console: Console) -> list[Row]:
    console.log("get_action_list under load")
    rows: list[Row] = []
    result = server.throughput(url, 1 if args.quick else 3,
                               requests=1000 if args.quick else 6000,
                               concurrency=32, seconds=15 if args.quick else 30)
    raw["throughput"] = {
        name: ({k: (v.as_json() if isinstance(v, Sample) else v) for k, v in r.items()}
               if isinstance(r, dict) else r)
        for name, r in result.items()}
    flex_r, bare_r = result["flexorm"], result["bare"]
    ratio = flex_r["rps"].median / bare_r["rps"].median
    rows.append(Row("get_action_list req/s (32 conns)", f"sqlite {big}",
                    f"{flex_r['rps'].median:.0f}/s", f"{bare_r['rps'].median:.0f}/s", ratio,
                    "≥ 0.85x bare", ratio >= 0.85, noise(flex_r["rps"], bare_r["rps"])))
    rows.append(Row("get_action_list p50 / p99 latency", f"sqlite {big}",
                    f"{flex_r['p50_ms'].median:.1f} / {flex_r['p99_ms'].median:.1f} ms",
                    f"{bare_r['p50_ms'].median:.1f} / {bare_r['p99_ms'].median:.1f} ms",
                    None, "", None))
    rows.append(Row("resident memory after load", f"sqlite {big}",
                    f"{result['rss_after_load_mib']:.0f} MiB", "", None, "< 150 MiB",
                    float(str(result["rss_after_load_mib"])) < 150))
    return rows


def _verbs(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {verb}" for verb, n in sorted(counts.items()))


def _pg_version(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = str(conn.exec_driver_sql("SHOW server_version").scalar())
    engine.dispose()
    return version


def render(rows: list[Row], console: Console) -> None:
    table = Table(title="flexorm vs bare baselines (medians)", title_justify="left")
    for heading in ("benchmark", "database", "flexorm", "baseline", "ratio", "target", "met",
                    "noise"):
        table.add_column(heading, justify="right" if heading in ("ratio", "noise") else "left")
    for row in rows:
        met = "" if row.met is None else ("[green]yes[/]" if row.met else "[red]NO[/]")
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        table.add_row(row.benchmark, row.database, row.flexorm, row.baseline, ratio,
                      row.target, met, row.noise)
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server whose user may create databases")
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer runs")
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (default 7)")
    parser.add_argument("--no-scale", action="store_true",
                        help="leave out reflection at 1,000-10,000 tables (about 20 minutes)")
    parser.add_argument("--bare-limit", type=float, default=120.0,
                        help="seconds after which the bare inspector is stopped at scale")
    parser.add_argument("--actions-only", action="store_true",
                        help="only the execute_action figures (per record and bulk)")
    args = parser.parse_args()
    console = Console(width=None if Console().is_terminal else 150)
    started = time.time()
    rows, raw = run_all(args, console)
    render(rows, console)
    RESULTS.mkdir(exist_ok=True)
    report = {"machine": machine() | {"postgresql": raw.pop("postgresql_version", None)},
              "quick": args.quick, "seconds": round(time.time() - started, 1),
              "rows": [row.__dict__ for row in rows], "raw": raw}
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, default=str))
    console.print(f"machine: {report['machine']}")
    console.print(f"written to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
