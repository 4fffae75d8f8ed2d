"""The pipeline's steps as plain functions: the CLI, the Airflow tasks and the tests all call these.

ingest_source: fetch -> raw landing -> parse -> staging Parquet -> gate -> lake (or quarantine).
Each step takes paths and settings and returns paths; nothing half-written is ever visible.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import lake
from pipelines.errors import GateFailed, ParseError, PipelineError
from pipelines.registry import SourceSpec, get_source
from pipelines.settings import Settings

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class IngestResult:
    source_id: str
    vintage: str
    changed: bool  # False: upstream unchanged, nothing new was parsed or published
    rows: dict[str, int] = field(default_factory=dict)  # dataset -> rows published to the lake
    lake_paths: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # the gate's remarks on a passed batch (e.g. duplicates)
    error: str | None = None  # backfill only: why this copy was not loaded (quarantined)


def stage_vintage(spec: SourceSpec, settings: Settings, vintage: str, raw_dir: Path) -> dict[str, Path]:
    """Parse one raw vintage into staging Parquet, one partition per dataset. Returns dataset -> file."""
    staged: dict[str, Path] = {}
    try:
        for parsed in spec.parse_vintage(raw_dir, vintage, settings):
            if parsed.dataset in staged:
                raise ParseError(
                    f"{parsed.source_file}: a second file for dataset {parsed.dataset} in one vintage"
                )
            target = (
                lake.partition_dir(settings.staging_dir, spec.source_id, parsed.dataset, vintage) / lake.PART
            )
            lake.write_batches(target, spec.schemas[parsed.dataset], parsed.batches)
            staged[parsed.dataset] = target
    except BaseException:
        discard_staged(staged)
        raise
    if not staged:
        raise ParseError(f"{spec.source_id} vintage {vintage}: no files to parse in {raw_dir}")
    return staged


def discard_staged(staged: dict[str, Path]) -> None:
    for path in staged.values():
        shutil.rmtree(path.parent, ignore_errors=True)


def previous_rows(settings: Settings, source_id: str, dataset: str, vintage: str) -> int | None:
    """Rows of the newest live lake vintage older than `vintage` (for the row-count-collapse check)."""
    older = [v for v in lake.lake_vintages(settings.lake_dir, source_id, dataset) if v < vintage]
    if not older:
        return None
    return lake.row_count(lake.partition_dir(settings.lake_dir, source_id, dataset, older[-1]) / lake.PART)


def gate_vintage(
    spec: SourceSpec,
    settings: Settings,
    vintage: str,
    staged: dict[str, Path],
    progress: Progress = _quiet,
    docs: bool = True,
) -> list:
    """Validate every staged batch of one vintage; returns the GateResults. Any failure quarantines them
    all and raises GateFailed. `docs=False` leaves the Data Docs to the caller (a backfill renders them
    once at the end: each rendering redoes every result validated in this process)."""
    from pipelines import gate

    results = []
    for dataset, path in staged.items():
        progress(f"gate {spec.source_id}/{dataset}")
        prev = previous_rows(settings, spec.source_id, dataset, vintage)
        results.append(
            gate.validate_batch(settings, spec.source_id, dataset, vintage, path, previous_rows=prev)
        )
    if docs:
        gate.build_data_docs(settings)
    failed = [r for r in results if not r.passed]
    if failed:
        where = gate.quarantine_batch(settings, spec.source_id, vintage, staged, results)
        names = "; ".join(f"{r.dataset}: {', '.join(r.failed)}" for r in failed)
        raise GateFailed(f"{spec.source_id} vintage {vintage} quarantined in {where}: {names}")
    return results


def publish_to_lake(
    spec: SourceSpec, settings: Settings, vintage: str, staged: dict[str, Path], derive: bool = True
) -> dict[str, Path]:
    """Move gated staging partitions into the lake (rename: dbt sees all or nothing of each), then
    recompute the source's derived datasets (a registry's history) unless `derive` is False."""
    published = {}
    for dataset, path in staged.items():
        target = lake.partition_dir(settings.lake_dir, spec.source_id, dataset, vintage)
        lake.replace_dir(path.parent, target)
        published[dataset] = target / lake.PART
    if derive:
        published.update(spec.derive(settings))
    return published


def needs_parse(spec: SourceSpec, settings: Settings, landing) -> bool:
    """A new vintage, or one that landed earlier but never reached the lake nor quarantine (a crash)."""
    if landing.changed:
        return True
    in_lake = any(
        landing.vintage in lake.lake_vintages(settings.lake_dir, spec.source_id, d) for d in spec.datasets
    )
    quarantined = (settings.quarantine_dir / spec.source_id / landing.vintage).exists()
    return not in_lake and not quarantined


def ingest_source(
    source: str | SourceSpec,
    settings: Settings,
    mirror: Path | None = None,
    live: bool = False,
    vintage: str | None = None,
    progress: Progress = _quiet,
    docs: bool = True,
) -> IngestResult:
    """fetch -> raw -> parse -> staging -> gate -> lake for one source. Unchanged upstream: a no-op.

    `docs=False` leaves the Data Docs to the caller (`transparency run` renders them once, after all its
    sources)."""
    from pipelines.fetch import fetch_source

    spec = get_source(source) if isinstance(source, str) else source
    started = time.perf_counter()
    progress(f"fetch {spec.source_id}")
    landing = fetch_source(spec, settings, mirror=mirror, live=live, vintage=vintage)
    result = IngestResult(spec.source_id, landing.vintage, landing.changed)
    if needs_parse(spec, settings, landing):
        _load_landed(spec, settings, landing.vintage, landing.raw_dir, result, progress, docs)
    result.seconds = time.perf_counter() - started
    return result


def _load_landed(
    spec: SourceSpec,
    settings: Settings,
    vintage: str,
    raw_dir: Path,
    result: IngestResult,
    progress: Progress,
    docs: bool,
) -> None:
    """parse -> staging -> gate -> lake for one landed vintage, recorded in `result`."""
    progress(f"parse {spec.source_id} vintage {vintage}")
    staged = stage_vintage(spec, settings, vintage, raw_dir)
    gate_and_publish(spec, settings, vintage, staged, result, progress, docs=docs)


def gate_and_publish(
    spec: SourceSpec,
    settings: Settings,
    vintage: str,
    staged: dict[str, Path],
    result: IngestResult,
    progress: Progress = _quiet,
    derive: bool = True,
    docs: bool = True,
) -> None:
    """gate -> lake for one staged vintage.

    The source's derived datasets (a registry's history) are computed in a thread while the gate runs, as
    if the vintage were already in the lake, into pending files that replace the current ones only after
    the gate passed (and are removed when it failed): on 2 million registry entries the two take about as
    long as each other. derive=False (a backfill) derives nothing, and docs=False renders no Data Docs: the
    caller does these once at the end.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="derive") as pool:
        pending = pool.submit(spec.derive, settings, (vintage, staged)) if derive and spec.derived else None
        try:
            gates = gate_vintage(spec, settings, vintage, staged, progress, docs=docs)
        except BaseException:
            if pending is not None and pending.exception() is None:
                for path in pending.result().values():
                    _discard_pending(path)
            raise
    result.notes = [note for gate in gates for note in gate.notes]
    result.lake_paths = publish_to_lake(spec, settings, vintage, staged, derive=False)
    if pending is not None:
        result.lake_paths.update(_commit_derived(spec, settings, pending))
    result.rows = {d: lake.row_count(p) for d, p in result.lake_paths.items()}
    result.changed = True


def _commit_derived(spec: SourceSpec, settings: Settings, pending) -> dict[str, Path]:
    """Move the pending derived files over the current ones (one rename each). If computing them failed,
    derive again now that the vintage is in the lake: a real problem then raises its own error."""
    if pending.exception() is not None:
        return spec.derive(settings)
    current = {}
    for dataset, path in pending.result().items():
        target = lake.derived_path(settings.lake_dir, spec.source_id, dataset)
        if path != target:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            _discard_pending(path)
        current[dataset] = target
    return current


def _discard_pending(path: Path) -> None:
    if path.parent.name.startswith(lake.PENDING_PREFIX):
        shutil.rmtree(path.parent, ignore_errors=True)


@dataclass
class BackfillResult:
    source_id: str
    loaded: list[IngestResult] = field(default_factory=list)
    derived: dict[str, Path] = field(default_factory=dict)

    @property
    def quarantined(self) -> list[str]:
        """One line per copy the gate refused."""
        return [result.error for result in self.loaded if result.error]


def backfill(
    source: str | SourceSpec, settings: Settings, folder: Path, progress: Progress = _quiet
) -> BackfillResult:
    """Replay a folder of historical copies (`pipelines/sources/<id>/backfill.py:snapshots(folder)` says
    which files form each copy, its vintage and their order), each through fetch -> gate -> lake.

    A copy the gate refuses is quarantined and the replay goes on (its line is in the result); the derived
    datasets are recomputed once at the end, from every copy in the lake, which gives the same history
    as deriving after each copy, in far less time. The next copy is landed and parsed in a thread while
    the gate (mostly Python in Great Expectations) validates the current one.
    """
    from pipelines.fetch import land_files

    spec = get_source(source) if isinstance(source, str) else source
    try:
        snapshots = spec.module("backfill").snapshots
    except ModuleNotFoundError as error:
        if error.name != f"{spec.package}.backfill":
            raise
        raise PipelineError(
            f"{spec.source_id} has no backfill (only sources published as snapshots)"
        ) from None
    folder = Path(folder)
    if not folder.is_dir():
        raise PipelineError(f"backfill folder not found: {folder}")
    outcome = BackfillResult(spec.source_id)

    def prepare(vintage: str, files: dict[str, Path]) -> tuple:
        """land -> parse -> staging of one copy: runs in a thread while the previous copy is gated."""
        started = time.perf_counter()
        landing = land_files(spec, settings, files, vintage)
        staged = (
            stage_vintage(spec, settings, landing.vintage, landing.raw_dir)
            if needs_parse(spec, settings, landing)
            else None
        )
        return landing, staged, time.perf_counter() - started

    copies = snapshots(folder)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-stage") as pool:
        upcoming = pool.submit(prepare, *copies[0]) if copies else None
        try:
            for index in range(len(copies)):
                landing, staged, seconds = upcoming.result()
                upcoming = pool.submit(prepare, *copies[index + 1]) if index + 1 < len(copies) else None
                started = time.perf_counter()
                progress(f"gate {spec.source_id} {landing.vintage}")
                result = IngestResult(spec.source_id, landing.vintage, changed=False)
                if staged is not None:
                    try:
                        gate_and_publish(
                            spec,
                            settings,
                            landing.vintage,
                            staged,
                            result,
                            progress,
                            derive=False,
                            docs=False,
                        )
                    except GateFailed as failure:
                        result.error = str(failure)
                result.seconds = seconds + time.perf_counter() - started
                outcome.loaded.append(result)
        except BaseException:
            if upcoming is not None and upcoming.exception() is None:
                discard_staged(upcoming.result()[1] or {})
            raise
    progress(f"derive {spec.source_id}")
    outcome.derived = spec.derive(settings)
    if any(result.changed or result.error for result in outcome.loaded):
        from pipelines import gate

        gate.build_data_docs(settings)
    return outcome
