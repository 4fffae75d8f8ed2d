"""Keep the lake's `registry_history` equal to build_history over every registry_snapshot vintage in the lake.

Called after every publish to the lake (`SourceSpec.derive`). The history is one Parquet file,
lake/rkn_registry/registry_history/current/part-0.parquet, replaced atomically (temporary file + rename).

Which snapshots a history covers cannot be read back from its rows: a snapshot identical to its neighbours
leaves no trace in the spells. So the file records them in its Parquet key-value metadata
(COVERAGE_KEY: JSON {vintage: snapshot_at ISO}), and derive compares that with the lake:

- the same vintages with the same times: nothing to do, the file is left untouched (byte for byte);
- the covered vintages plus exactly one more, newer than every covered snapshot: the fast path
  (history.py's incremental SQL, = add_snapshot) over the current file and the new snapshot;
- anything else (a late snapshot, the same snapshot again under another vintage, a quarantined or removed
  vintage, a missing or unreadable history file): build_history over all the lake's snapshots.

Memory: everything runs in DuckDB over the Parquet files (only the columns the history needs are read),
with a memory limit and a spill folder, and the result is streamed into the Parquet writer in batches.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import lake
from pipelines.errors import PipelineError
from pipelines.sources.rkn_registry.history import SNAPSHOT_COLUMNS, history_batches
from pipelines.sources.rkn_registry.schema import HISTORY, REGISTRY_SNAPSHOT, SNAPSHOT_AT_TYPE

SNAPSHOT_DATASET = "registry_snapshot"
HISTORY_DATASET = "registry_history"
CURRENT = "current"
COVERAGE_KEY = b"rkn_registry.snapshots"  # Parquet key-value metadata: {vintage: snapshot_at ISO}
DUCKDB_SETTINGS = {"memory_limit": "'768MB'", "threads": "2", "preserve_insertion_order": "false"}

Coverage = dict[str, str]  # vintage -> snapshot_at (naive UTC, ISO format)


def history_path(lake_dir: Path, source_id: str) -> Path:
    return lake_dir / source_id / HISTORY_DATASET / CURRENT / lake.PART


def derive(spec, settings) -> dict[str, Path]:
    """Bring the history up to date with the lake's snapshots; returns {"registry_history": its file}."""
    source_id = spec.source_id
    target = history_path(settings.lake_dir, source_id)
    files = {
        v: lake.partition_dir(settings.lake_dir, source_id, SNAPSHOT_DATASET, v) / lake.PART
        for v in lake.lake_vintages(settings.lake_dir, source_id, SNAPSHOT_DATASET)
    }
    wanted = lake_coverage(files)
    covered = read_coverage(target)
    if covered == wanted and target.is_file():
        return {HISTORY_DATASET: target}
    new = _fast_path_vintage(covered, wanted)
    if new is not None:
        try:
            _write(target, files, wanted, new)
            return {HISTORY_DATASET: target}
        except duckdb.Error:
            pass  # the current file is unreadable after all: recompute from the snapshots
    _write(target, files, wanted, None)
    return {HISTORY_DATASET: target}


def lake_coverage(files: dict[str, Path]) -> Coverage:
    """{vintage: snapshot_at} of the lake's snapshot files (each batch holds one snapshot_at: the gate checks)."""
    if not files:
        return {}
    con = _connect()
    try:
        rows = con.execute(
            "select filename, min(snapshot_at), max(snapshot_at) "
            "from read_parquet($files, filename = true, hive_partitioning = false) group by filename",
            {"files": [str(p) for p in files.values()]},
        ).fetchall()
    finally:
        con.close()
    by_file = {Path(name): (low, high) for name, low, high in rows}
    coverage: Coverage = {}
    for vintage, path in files.items():
        low, high = by_file.get(path, (None, None))
        if low is None or low != high:
            raise PipelineError(
                f"rkn_registry lake vintage {vintage}: expected one snapshot time, got {low}..{high}"
            )
        coverage[vintage] = low.isoformat()
    return coverage


def read_coverage(path: Path) -> Coverage | None:
    """The snapshots the history file covers, or None (no file, not Parquet, no or bad coverage record)."""
    try:
        metadata = pq.read_schema(path).metadata or {}
        coverage = json.loads(metadata[COVERAGE_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    if not isinstance(coverage, dict) or not all(isinstance(v, str) for v in coverage.values()):
        return None
    return coverage


def _fast_path_vintage(covered: Coverage | None, wanted: Coverage) -> str | None:
    """The one new vintage when the lake = covered + one snapshot newer than all covered ones, else None."""
    if covered is None or any(wanted.get(v) != at for v, at in covered.items()):
        return None
    new = [v for v in wanted if v not in covered]
    if len(new) != 1:
        return None
    newest = max((dt.datetime.fromisoformat(at) for at in covered.values()), default=None)
    arrival = dt.datetime.fromisoformat(wanted[new[0]])
    return new[0] if newest is None or arrival > newest else None


def _write(target: Path, files: dict[str, Path], coverage: Coverage, new: str | None) -> None:
    """Compute the history in DuckDB (fast path when `new` is given) and replace the file atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix=".tmp-duckdb-", dir=target.parent))
    con = _connect(spill)
    try:
        chosen = [files[new]] if new is not None else list(files.values())
        _snapshot_view(con, chosen)
        if new is not None:
            con.execute(
                "create view history as select * from read_parquet($path, hive_partitioning = false)",
                {"path": str(target)},
            )
            at = dt.datetime.fromisoformat(coverage[new])
            arrival = pa.table({"new_at": pa.array([at], SNAPSHOT_AT_TYPE)})
            con.register("arrival", arrival)
        schema = HISTORY.with_metadata({COVERAGE_KEY: json.dumps(dict(sorted(coverage.items())))})
        lake.write_batches(target, schema, history_batches(con, incremental=new is not None))
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _snapshot_view(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    """View `snaps`: the columns the history needs, from the given snapshot files (or none)."""
    columns = ", ".join(SNAPSHOT_COLUMNS)
    if paths:
        listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        con.execute(
            f"create view snaps as select {columns} from read_parquet([{listed}], hive_partitioning = false)"
        )
    else:
        empty = pa.schema([REGISTRY_SNAPSHOT.field(name) for name in SNAPSHOT_COLUMNS]).empty_table()
        con.register("snaps", empty)


def _connect(spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, value in DUCKDB_SETTINGS.items():
        con.execute(f"set {name} = {value}")
    if spill is not None:
        con.execute(f"set temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    return con
