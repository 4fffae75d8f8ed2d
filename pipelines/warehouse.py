"""Build the DuckDB warehouse (schema `marts`) from the lake with dbt, publishing it only when dbt succeeded.

dbt runs in a subprocess (its own process, logs and exit code; no dbt state leaks into ours) against a
temporary copy `<data_dir>/warehouse.building.duckdb`. Only when `dbt build` (seeds, models and every data
test) passed is the copy renamed over `warehouse.duckdb`, so a failing build, e.g. a reason label no seed
maps, leaves the published marts exactly as they were. dbt's target and log folders live under
`<data_dir>/dbt/` so that the repository stays clean.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines import lake
from pipelines.errors import WarehouseError
from pipelines.registry import SOURCES
from pipelines.settings import Settings

log = logging.getLogger(__name__)

DBT_TIMEOUT_S = 1800
BUILDING_NAME = "warehouse.building.duckdb"  # dbt-duckdb names the database after the first dot-part
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
TIMESTAMP = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?\s+")


def build(settings: Settings) -> Path:
    """Run `dbt build` on a copy of the warehouse and publish it; returns the warehouse path."""
    refresh_derived(settings)
    ensure_schema_files(settings)
    building = settings.data_dir / BUILDING_NAME
    with _build_lock(settings):
        _discard(building)
        if settings.warehouse_path.exists():
            _copy_database(settings.warehouse_path, building)
        started = time.monotonic()
        try:
            _run_dbt(settings, building, ["build"])
            _checkpoint(building)
        except BaseException:
            _discard(building)  # the published warehouse was never touched
            raise
        log.info("dbt build succeeded in %.1f s", time.monotonic() - started)
        Path(f"{settings.warehouse_path}.wal").unlink(missing_ok=True)  # would be replayed onto the new file
        os.replace(building, settings.warehouse_path)
    return settings.warehouse_path


def docs(settings: Settings) -> Path:
    """Run `dbt docs generate` (catalog of the published warehouse); returns the folder with index.html."""
    if not settings.warehouse_path.exists():
        raise WarehouseError(f"no warehouse at {settings.warehouse_path}; build it first")
    ensure_schema_files(settings)
    # dbt-duckdb opens its path read-write, which would lock readers out of the published file: document
    # a copy instead, at the build's path (same profile, so dbt's partial parse stays valid; same
    # database name `warehouse` in the catalog).
    copy = settings.data_dir / BUILDING_NAME
    with _build_lock(settings):
        _discard(copy)
        _copy_database(settings.warehouse_path, copy)
        try:
            _run_dbt(settings, copy, ["docs", "generate", "--static"])
        finally:
            _discard(copy)
    return dbt_work_dir(settings) / "target"


def refresh_derived(settings: Settings) -> None:
    """The derived datasets (a registry's history) follow the lake before dbt reads them: `spec.derive`
    leaves a current file untouched and recomputes one that is not, e.g. after a vintage was removed by
    hand, or a file written by an older version (a history keyed in hex). Loads derive as they go; this
    covers a build without a load (the Airflow marts task, a missing warehouse). A source with neither
    vintages nor derived files in the lake is left alone."""
    for spec in (spec for spec in SOURCES if spec.derived):
        derived = any(lake.derived_path(settings.lake_dir, spec.source_id, d).exists() for d in spec.derived)
        if derived or any(lake.lake_vintages(settings.lake_dir, spec.source_id, d) for d in spec.datasets):
            spec.derive(settings)


def ensure_schema_files(settings: Settings) -> None:
    """Every dataset of every source gets its empty typed `_schema` file, so dbt's globs always match."""
    for spec in SOURCES:
        for dataset in (*spec.datasets, *spec.derived):
            lake.ensure_schema_file(settings.lake_dir, spec.source_id, dataset, spec.schemas[dataset])


def dbt_work_dir(settings: Settings) -> Path:
    """dbt's working folder for this data dir (target/ and logs/)."""
    return settings.data_dir / "dbt"


def dbt_executable() -> Path:
    return Path(sys.executable).parent / "dbt"


def _run_dbt(settings: Settings, database: Path, args: list[str]) -> None:
    target = dbt_work_dir(settings) / "target"
    logs = dbt_work_dir(settings) / "logs"
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").unlink(missing_ok=True)  # never read a previous run's results
    command = [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(settings.dbt_dir),
        "--profiles-dir",
        str(settings.dbt_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
    ]
    try:
        done = subprocess.run(
            command,
            check=False,
            cwd=settings.dbt_dir,
            env=_dbt_env(settings, database, target, logs),
            capture_output=True,
            text=True,
            timeout=DBT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise WarehouseError(
            f"dbt {args[0]} timed out after {DBT_TIMEOUT_S} s; warehouse left as it was"
        ) from exc
    except OSError as exc:
        raise WarehouseError(f"cannot run dbt ({command[0]}): {exc}") from exc
    if done.returncode != 0:
        raise WarehouseError(_failure_message(args, target / "run_results.json", done.stdout + done.stderr))


def _dbt_env(settings: Settings, database: Path, target: Path, logs: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(settings.dbt_dir),
        DBT_TARGET_PATH=str(target),
        DBT_LOG_PATH=str(logs),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        TRANSPARENCY_DATA_DIR=str(settings.data_dir),
        TRANSPARENCY_WAREHOUSE_PATH=str(database),
    )
    return env


def _failure_message(args: list[str], run_results: Path, output: str) -> str:
    """One line naming the failed nodes (from run_results.json), else dbt's own error text."""
    head = f"dbt {' '.join(args[:2]) if args[0] == 'docs' else args[0]} failed"
    failed = _failed_nodes(run_results)
    if failed:
        shown = ", ".join(failed[:8]) + (f" and {len(failed) - 8} more" if len(failed) > 8 else "")
        return f"{head}: {shown}; warehouse left as it was (log: {run_results.parent.parent / 'logs'})"
    return f"{head}: {_error_text(output)}; warehouse left as it was"


def _error_text(output: str) -> str:
    """The lines after dbt's "Encountered an error:" (or its last line mentioning an error), joined."""
    lines = [TIMESTAMP.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line and not set(line) <= {"-"}]
    for i, line in enumerate(lines):
        if line.startswith("Encountered an error"):
            return " ".join(lines[i + 1 : i + 4])[:400]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1][:400]


def _failed_nodes(run_results: Path) -> list[str]:
    try:
        results = json.loads(run_results.read_text("utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    failed = []
    for result in results:
        if result.get("status") in FAILED_STATUSES:
            name = result["unique_id"].split(".", 2)[-1]
            kind = result["unique_id"].split(".", 1)[0]
            rows = result.get("failures")
            what = f"{rows} failing row{'s' if rows != 1 else ''}" if rows else result["status"]
            failed.append(f"{kind} {name} ({what})")
    return failed


def _copy_database(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    wal = Path(f"{source}.wal")
    if wal.exists():  # an unclean close left changes in the WAL: they belong to the copy too
        shutil.copyfile(wal, f"{target}.wal")


def _checkpoint(database: Path) -> None:
    """Fold a leftover WAL into the file, so that renaming the one file moves every change."""
    if Path(f"{database}.wal").exists():
        with duckdb.connect(str(database)) as con:
            con.execute("checkpoint")


def _discard(database: Path) -> None:
    database.unlink(missing_ok=True)
    Path(f"{database}.wal").unlink(missing_ok=True)


@contextmanager
def _build_lock(settings: Settings) -> Iterator[None]:
    """One dbt run per data dir at a time: two builds would share the temporary copy."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "warehouse.building.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
