"""The `transparency` command: run, status, publish, docs.

Errors the pipeline anticipates (PipelineError) print as one line on stderr with exit code 1; a usage
error exits 2 (argparse). Heavy modules are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.errors import PipelineError
from pipelines.registry import SOURCES, get_source
from pipelines.settings import Settings, load_settings


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def cmd_run(args, settings: Settings) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from pipelines import run
    from pipelines.fetch import mirror_vintages

    specs = [get_source(s) for s in args.sources] if args.sources else list(SOURCES)
    console = _console()
    changed = False
    started = time.perf_counter()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        for spec in specs:
            plan = mirror_vintages(Path(args.mirror), spec) if args.mirror else [(None, None)]
            for mirror, vintage in plan:
                result = run.ingest_source(
                    spec, settings, mirror=mirror, live=args.live, vintage=args.vintage or vintage,
                    progress=lambda text: bar.update(task, description=text),
                )
                changed |= result.changed
                what = (
                    "new vintage " + ", ".join(f"{d}={n}" for d, n in result.rows.items())
                    if result.changed else "unchanged upstream, nothing to do"
                )
                console.print(f"{spec.source_id} {result.vintage}: {what} ({result.seconds:.2f}s)")
        if args.no_build:
            console.print("--no-build: marts not rebuilt")
        elif changed or not settings.warehouse_path.exists():
            from pipelines import warehouse

            bar.update(task, description="dbt build (marts)")
            warehouse.build(settings)
        else:
            console.print("marts unchanged (no new data)")
    print(f"pipeline time {time.perf_counter() - started:.2f}s")
    print(f"marts: {settings.warehouse_path} (schema marts)")
    return 0


def cmd_status(args, settings: Settings) -> int:
    from pipelines import gate, lake
    from pipelines.landing import list_vintages

    print(f"data dir: {settings.data_dir}")
    for spec in SOURCES:
        print(f"\n{spec.source_id}: {spec.title}")
        vintages = list_vintages(settings, spec.source_id)
        print(f"  raw vintages: {', '.join(m['vintage'] for m in vintages) or 'none'}")
        for dataset in spec.datasets:
            live = lake.lake_vintages(settings.lake_dir, spec.source_id, dataset)
            print(f"  lake {dataset}: {', '.join(live) or '-'}")
        for result in gate.last_results(settings, spec.source_id):
            verdict = "passed" if result.get("passed") else "FAILED " + "; ".join(result.get("failed", []))
            print(f"  last gate {result.get('dataset')} {result.get('vintage')}: {verdict}")
        quarantined = sorted(p.name for p in (settings.quarantine_dir / spec.source_id).glob("*"))
        print(f"  quarantined vintages: {', '.join(quarantined) or 'none'}")
    where = settings.warehouse_path
    print(f"\nwarehouse: {where}" + ("" if where.exists() else " (not built yet)"))
    return 0


def cmd_publish(args, settings: Settings) -> int:
    from pipelines.publish import publish_quarter

    out = publish_quarter(settings, args.quarter, country=args.country)
    print(f"published {args.quarter}{' ' + args.country if args.country else ''}: {out}")
    return 0


def cmd_docs(args, settings: Settings) -> int:
    from pipelines import warehouse

    print(f"dbt docs: {warehouse.docs(settings)}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="transparency", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="data directory (default: $TRANSPARENCY_DATA_DIR or ./data)")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="fetch, parse, gate and load sources, then build the marts")
    r.add_argument("--sources", nargs="+", metavar="ID", help=f"default: all ({', '.join(s.source_id for s in SOURCES)})")
    r.add_argument("--mirror", metavar="DIR", help="read upstream files from DIR/<file name> (or DIR/<vintage>/…)")
    r.add_argument("--live", action="store_true", help="retrieve from the upstream URLs")
    r.add_argument("--vintage", help="vintage id for a backfilled copy (default: retrieval time)")
    r.add_argument("--no-build", action="store_true", help="load the lake only; skip dbt")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("status", help="sources, vintages, last gate results")
    s.set_defaults(func=cmd_status)

    pub = sub.add_parser("publish", help="write a quarter's tables (CSV, XLSX, Markdown + manifest)")
    pub.add_argument("--quarter", required=True, help="e.g. 2025Q2")
    pub.add_argument("--country", help="ISO 3166 alpha-2 code, e.g. KZ")
    pub.set_defaults(func=cmd_publish)

    d = sub.add_parser("docs", help="generate dbt docs")
    d.set_defaults(func=cmd_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(args.data_dir)
        return args.func(args, settings)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # disk full, permissions, a path that is not a folder: one line, not a traceback
        print(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
