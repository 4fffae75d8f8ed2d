"""The `transparency` command: run, backfill, status, publish, docs.

Errors the pipeline anticipates (PipelineError) print as one line on stderr with exit code 1; a usage
error exits 2 (argparse). Heavy modules are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.errors import GateFailed, PipelineError
from pipelines.registry import SOURCES, get_source
from pipelines.settings import Settings, load_settings


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _mirror_plan(root: Path, spec, settings: Settings) -> tuple[list[tuple[Path, str | None]] | None, str]:
    """(plan, "") for one source's copies in the mirror, or (None, why nothing was found)."""
    from pipelines.fetch import mirror_vintages

    try:
        return mirror_vintages(root, spec, settings), ""
    except PipelineError as error:
        return None, str(error)


def _plans(args, settings: Settings) -> list[tuple]:
    """(spec, [(mirror folder or None, vintage label or None), …]) per source to run.

    With --mirror and no --sources, the sources the mirror holds copies of; naming a source the mirror
    does not hold is an error."""
    specs = [get_source(s) for s in args.sources] if args.sources else list(SOURCES)
    if not args.mirror:
        return [(spec, [(None, None)]) for spec in specs]
    root = Path(args.mirror)
    if not root.is_dir():
        raise PipelineError(f"mirror folder not found: {root}")
    found = {spec.source_id: _mirror_plan(root, spec, settings) for spec in specs}
    missing = [why for plan, why in found.values() if plan is None]
    if missing and (args.sources or len(missing) == len(specs)):
        raise PipelineError("; ".join(missing))
    return [(spec, found[spec.source_id][0]) for spec in specs if found[spec.source_id][0] is not None]


def _outcome(result) -> str:
    if result.error:
        return f"{result.source_id} {result.vintage}: quarantined ({result.seconds:.2f}s)"
    if not result.changed:
        return (
            f"{result.source_id} {result.vintage}: unchanged upstream, nothing to do ({result.seconds:.2f}s)"
        )
    rows = ", ".join(f"{d}={n}" for d, n in result.rows.items())
    notes = "".join(f"\n  note: {note}" for note in result.notes)
    return f"{result.source_id} {result.vintage}: new vintage {rows} ({result.seconds:.2f}s){notes}"


def _data_docs(console, settings: Settings, quiet: bool = False) -> None:
    """Render the Great Expectations Data Docs (a view of the gate's results: a failure is a warning)."""
    from pipelines import gate

    try:
        index = gate.build_data_docs(settings)
    except PipelineError as error:
        if not quiet:
            console.print(f"warning: {error}")
        return
    if not quiet:
        console.print(f"data docs: {index}")


def _build_marts(console, settings: Settings, changed: bool, no_build: bool) -> None:
    if no_build:
        console.print("--no-build: marts not rebuilt")
    elif changed or not settings.warehouse_path.exists():
        from pipelines import warehouse

        console.print("dbt build (marts)")
        warehouse.build(settings)
    else:
        console.print("marts unchanged (no new data)")


def _progress(console):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def cmd_run(args, settings: Settings) -> int:
    from pipelines import run

    console = _console()
    changed = False
    started = time.perf_counter()
    with _progress(console) as bar:
        task = bar.add_task("starting", total=None)
        gated = False  # a batch reached the gate: the Data Docs are rendered once, at the end of the run
        try:
            for spec, plan in _plans(args, settings):
                for mirror, vintage in plan:
                    try:
                        result = run.ingest_source(
                            spec,
                            settings,
                            mirror=mirror,
                            live=args.live,
                            vintage=args.vintage or vintage,
                            progress=lambda text: bar.update(task, description=text),
                            docs=False,
                        )
                    except GateFailed:
                        gated = True
                        raise
                    changed |= result.changed
                    gated |= result.changed
                    console.print(_outcome(result))
        finally:
            # after an error too, quietly (its one line stays the only one), with a refused batch in them
            if gated:
                bar.update(task, description="data docs")
                _data_docs(console, settings, quiet=sys.exc_info()[0] is not None)
        _build_marts(console, settings, changed, args.no_build)
    print(f"pipeline time {time.perf_counter() - started:.2f}s")
    print(f"marts: {settings.warehouse_path} (schema marts)")
    return 0


def cmd_backfill(args, settings: Settings) -> int:
    from pipelines import run

    console = _console()
    started = time.perf_counter()
    with _progress(console) as bar:
        task = bar.add_task("starting", total=None)
        outcome = run.backfill(
            args.source, settings, Path(args.folder), progress=lambda text: bar.update(task, description=text)
        )
        for result in outcome.loaded:
            console.print(_outcome(result))
        loaded = sum(1 for result in outcome.loaded if result.changed)
        _build_marts(console, settings, loaded > 0, args.no_build)
    print(
        f"backfill {outcome.source_id}: {len(outcome.loaded)} copies, {loaded} loaded, "
        f"{len(outcome.quarantined)} quarantined ({time.perf_counter() - started:.2f}s)"
    )
    for line in outcome.quarantined:
        print(f"error: {line}", file=sys.stderr)
    return 1 if outcome.quarantined else 0


def _listing(vintages: list[str], shown: int = 6) -> str:
    """Vintage ids, or their count and range when there are many (a registry backfill lands dozens)."""
    if len(vintages) <= shown:
        return ", ".join(vintages) or "none"
    return f"{len(vintages)} vintages, {vintages[0]} … {vintages[-1]}"


def cmd_status(args, settings: Settings) -> int:
    from pipelines import gate, lake
    from pipelines.landing import list_vintages

    print(f"data dir: {settings.data_dir}")
    for spec in SOURCES:
        print(f"\n{spec.source_id}: {spec.title}")
        vintages = list_vintages(settings, spec.source_id)
        print(f"  raw vintages: {_listing([m['vintage'] for m in vintages])}")
        for dataset in spec.datasets:
            live = lake.lake_vintages(settings.lake_dir, spec.source_id, dataset)
            print(f"  lake {dataset}: {_listing(live)}")
        for dataset in spec.derived:
            current = lake.derived_path(settings.lake_dir, spec.source_id, dataset)
            print(f"  derived {dataset}: {f'{lake.row_count(current)} rows' if current.exists() else '-'}")
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
    r.add_argument(
        "--sources", nargs="+", metavar="ID", help=f"default: all ({', '.join(s.source_id for s in SOURCES)})"
    )
    r.add_argument(
        "--mirror", metavar="DIR", help="read upstream files from DIR/<file name> (or DIR/<vintage>/…)"
    )
    r.add_argument("--live", action="store_true", help="retrieve from the upstream URLs")
    r.add_argument("--vintage", help="vintage id for a backfilled copy (default: retrieval time)")
    r.add_argument("--no-build", action="store_true", help="load the lake only; skip dbt")
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("backfill", help="replay a folder of historical snapshots, oldest first, then build")
    b.add_argument("source", metavar="SOURCE", help="a source published as snapshots, e.g. rkn_registry")
    b.add_argument("folder", metavar="DIR", help="folder of snapshot files (ordered by their own dates)")
    b.add_argument("--no-build", action="store_true", help="load the lake only; skip dbt")
    b.set_defaults(func=cmd_backfill)

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
