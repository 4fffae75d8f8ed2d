"""The Great Expectations gate between staging and the lake.

`validate_batch` runs the suite of expectations/<source_id>.py over one staged Parquet file and writes the
Great Expectations validation result (JSON) and a readable summary to settings.gate_dir; a failed batch is
moved to the quarantine zone by `quarantine_batch`; `build_data_docs` renders the results as HTML.

How a batch is validated (Great Expectations 1.x, pandas execution engine). The project has no SQLAlchemy
dialect for DuckDB (duckdb-engine is not installed), so the SQL datasource is not available; the pandas
engine is, but loading a 5-million-row batch whole would take gigabytes (the engine copies the whole frame
for every column expectation). The gate therefore gives each expectation a frame with exactly the data it
looks at, read straight from the Parquet file:

- schema expectations (exact column list, column types) run on an empty frame holding every column with
  the dtype the Parquet schema maps to (expectations/common.py PANDAS_DTYPES; no column is left as
  `object`, so the type checks compare dtypes and do not depend on rows);
- column expectations (NOT NULL, value sets, ranges) run on frames of a few whole columns (all rows),
  strings dictionary-encoded (pandas categoricals), so that one frame stays below FRAME_CELLS;
- the table row count runs on the first of those frames (it holds every row);
- the compound-key uniqueness runs on the key columns, split by a hash of the key into buckets of at most
  KEY_BUCKET_ROWS rows: equal keys land in the same bucket, so duplicates are found exactly, and the
  bucket results (counts, sample values) are added up into one result.

All results are assembled into one ExpectationSuiteValidationResult in the order of the suite, stored in the
Great Expectations validation results store (for Data Docs) and written to
gate_dir/<source_id>/<vintage>/<dataset>.json, with a `.txt` summary beside it.

Great Expectations is imported inside functions (the import takes seconds); one data context per data dir
is kept for the life of the process.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import json
import logging
import math
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pipelines.errors import PipelineError
from pipelines.lake import partition_dir, replace_dir
from pipelines.settings import Settings

log = logging.getLogger(__name__)

FRAME_CELLS = 5_000_000  # rows x columns of one frame of column expectations
KEY_BUCKET_ROWS = 1_000_000  # rows of one bucket of the key-uniqueness check
KEY_READ_ROWS = 262_144  # rows per record batch while streaming key columns
SAMPLE_VALUES = 3  # unexpected values quoted in a failure line
DOCS_RESULTS_LIMIT = 500  # validation results listed (and rendered) by a full Data Docs build
RESULT_FORMAT = "SUMMARY"  # counts plus up to 20 sample unexpected values per expectation

# Expectations whose outcome depends only on the column names and dtypes (see the module docstring).
SCHEMA_EXPECTATIONS = frozenset(
    {
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_column_to_exist",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_in_type_list",
    }
)
# Expectations checked bucket by bucket, the buckets cut by a hash of the expectation's column_list.
KEYED_EXPECTATIONS = frozenset({"expect_compound_columns_to_be_unique"})


@dataclass
class GateResult:
    source_id: str
    dataset: str
    vintage: str
    passed: bool
    rows: int
    failed: list[str] = field(default_factory=list)  # one readable line per failed expectation
    result_path: Path = Path()  # the JSON validation result
    summary: str = ""

    def to_dict(self) -> dict:
        return {
            "source_id": self.source_id,
            "dataset": self.dataset,
            "vintage": self.vintage,
            "passed": self.passed,
            "rows": self.rows,
            "failed": list(self.failed),
            "result_path": str(self.result_path),
            "summary": self.summary,
        }


# --------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------


def validate_batch(
    settings: Settings,
    source_id: str,
    dataset: str,
    vintage: str,
    parquet_path: Path,
    previous_rows: int | None = None,
) -> GateResult:
    """Validate one staged batch with its suite; never raises for failed expectations (passed=False)."""
    parquet_path = Path(parquet_path)
    schema, rows = _read_parquet_meta(parquet_path)
    suite = _build_suite(source_id, dataset, previous_rows)
    context = _context(settings)
    try:
        results = _validate(context, suite, parquet_path, schema, rows)
    except PipelineError:
        raise
    except Exception as error:  # a Great Expectations or pandas malfunction, not a data problem
        raise PipelineError(
            f"gate could not validate {source_id}/{dataset} vintage {vintage}: {_one_line(error)}"
        ) from error

    failed = [_describe(r) for r in results if not r.success]
    validated_at = dt.datetime.now(dt.UTC)
    gate_meta = {
        "source_id": source_id,
        "dataset": dataset,
        "vintage": vintage,
        "rows": rows,
        "passed": not failed,
        "failed": failed,
        "previous_rows": previous_rows,
        "parquet_path": str(parquet_path),
        "validated_at": validated_at.isoformat(timespec="microseconds"),
    }
    suite_result = _suite_result(suite, results, gate_meta, validated_at)
    result_path = _result_path(settings, source_id, vintage, dataset)
    summary = _summary_text(gate_meta, len(results), result_path)
    _write_json(result_path, suite_result.to_json_dict())
    _write_text(result_path.with_suffix(".txt"), summary)
    _store_and_render(context, suite, suite_result, source_id, dataset, vintage, validated_at)
    return GateResult(
        source_id=source_id,
        dataset=dataset,
        vintage=vintage,
        passed=not failed,
        rows=rows,
        failed=failed,
        result_path=result_path,
        summary=summary,
    )


def quarantine_batch(
    settings: Settings,
    source_id: str,
    vintage: str,
    staged: dict[str, Path],
    results: list[GateResult],
) -> Path:
    """Move every staged partition of the vintage to quarantine, with its validation results and a SUMMARY."""
    target = settings.quarantine_dir / source_id / vintage
    target.mkdir(parents=True, exist_ok=True)
    datasets = set(staged) | _staged_datasets(settings, source_id, vintage)
    moved: dict[str, Path] = {}
    for dataset in sorted(datasets):
        src = _staged_partition(settings, source_id, dataset, vintage, staged.get(dataset))
        if not src.exists():
            continue
        dst = target / dataset
        replace_dir(src, dst)
        moved[dataset] = dst
        _remove_if_empty(src.parent)
    for result in results:
        folder = moved.get(result.dataset, target / result.dataset)
        folder.mkdir(parents=True, exist_ok=True)
        for path in (result.result_path, result.result_path.with_suffix(".txt")):
            if path.is_file():
                shutil.copy2(path, folder / f"validation-{path.name}")
    _write_text(target / "SUMMARY.txt", _quarantine_summary(source_id, vintage, moved, results))
    return target


def build_data_docs(settings: Settings) -> Path:
    """Render Data Docs for every stored result (newest DOCS_RESULTS_LIMIT); returns index.html."""
    context = _context(settings)
    try:
        context.build_data_docs(site_names=[_DOCS_SITE])
    except Exception as error:
        raise PipelineError(f"Data Docs could not be built: {_one_line(error)}") from error
    return settings.docs_dir / "index.html"


def last_results(settings: Settings, source_id: str) -> list[dict]:
    """The newest gate result of each dataset of a source (by validation time), sorted by dataset."""
    newest: dict[str, dict] = {}
    for path in sorted((settings.gate_dir / source_id).glob("*/*.json")):
        try:
            gate = json.loads(path.read_text(encoding="utf-8")).get("meta", {}).get("gate")
        except (OSError, ValueError):
            continue
        if not gate:
            continue
        entry = {**gate, "result_path": str(path)}
        current = newest.get(gate["dataset"])
        if current is None or entry["validated_at"] >= current["validated_at"]:
            newest[gate["dataset"]] = entry
    return [newest[d] for d in sorted(newest)]


# --------------------------------------------------------------------------------------------------
# Great Expectations context
# --------------------------------------------------------------------------------------------------

_DOCS_SITE = "local_site"
_CONTEXTS: dict[Path, Any] = {}


def _gx():
    """Import Great Expectations once, with analytics off and batch fingerprints skipped."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # The pandas engine fingerprints every frame (an md5 of a full hash of the data) as a batch marker;
    # the gate never reads it, and on a 5-million-row column it costs about half a second.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def _context(settings: Settings):
    """One ephemeral context per data dir: datasources live in memory, suites and results on disk."""
    key = Path(settings.data_dir)
    if key in _CONTEXTS:
        return _CONTEXTS[key]
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    root = key / "gx"
    root.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(root)),
        data_docs_sites={
            _DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(settings.docs_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": DOCS_RESULTS_LIMIT,
                },
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    try:
        context = gx.get_context(project_config=config, mode="ephemeral")
    except Exception as error:
        raise PipelineError(f"Great Expectations context could not start: {_one_line(error)}") from error
    _CONTEXTS[key] = context
    return context


def _build_suite(source_id: str, dataset: str, previous_rows: int | None):
    try:
        module = importlib.import_module(f"expectations.{source_id}")
    except ModuleNotFoundError as error:
        if error.name not in ("expectations", f"expectations.{source_id}"):
            raise
        raise PipelineError(
            f"no expectation suite for source {source_id!r} (expectations/{source_id}.py)"
        ) from error
    try:
        return module.build_suite(dataset, previous_rows=previous_rows)
    except ValueError as error:
        raise PipelineError(f"no expectation suite for {source_id}/{dataset}: {error}") from error


# --------------------------------------------------------------------------------------------------
# Validation: split the suite over frames, run each, put the results back together
# --------------------------------------------------------------------------------------------------


def _read_parquet_meta(path: Path):
    import pyarrow.parquet as pq

    if not path.is_file():
        raise PipelineError(f"gate: staged file not found: {path}")
    try:
        metadata = pq.ParquetFile(path).metadata
        return metadata.schema.to_arrow_schema(), metadata.num_rows
    except Exception as error:
        raise PipelineError(f"gate: cannot read Parquet file {path}: {_one_line(error)}") from error


def _columns_of(expectation) -> list[str]:
    kwargs = expectation.configuration.kwargs
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _plan(suite, schema, rows: int) -> tuple[list, list[tuple[list[str], list]], list]:
    """Split the suite: (schema expectations, [(columns, expectations)] value frames, keyed expectations)."""
    schema_exps, keyed, table_exps = [], [], []
    by_columns: dict[tuple[str, ...], list] = {}
    for expectation in suite.expectations:
        kind = expectation.expectation_type
        columns = _columns_of(expectation)
        if kind in SCHEMA_EXPECTATIONS:
            schema_exps.append(expectation)
        elif kind in KEYED_EXPECTATIONS:
            if expectation.configuration.kwargs.get("mostly") not in (None, 1, 1.0):
                raise PipelineError(f"gate: {kind} cannot use 'mostly' (it is checked bucket by bucket)")
            keyed.append(expectation)
        elif columns:
            by_columns.setdefault(tuple(columns), []).append(expectation)
        else:
            table_exps.append(expectation)
    frames: list[tuple[list[str], list]] = []
    for columns, expectations in by_columns.items():
        if frames and max(rows, 1) * (len(frames[-1][0]) + len(columns)) <= FRAME_CELLS:
            frames[-1][0].extend(c for c in columns if c not in frames[-1][0])
            frames[-1][1].extend(expectations)
        else:
            frames.append((list(columns), list(expectations)))
    if table_exps:
        if not frames:
            frames.append(([schema.names[0]] if schema.names else [], []))
        frames[0][1].extend(table_exps)
    return schema_exps, frames, keyed


def _validate(context, suite, path: Path, schema, rows: int) -> list:
    """Every expectation of the suite validated once; results in suite order."""
    schema_exps, frames, keyed = _plan(suite, schema, rows)
    results: dict[str, Any] = {}
    if schema_exps:
        results.update(_run(context, lambda: _schema_frame(schema), schema_exps))
    for columns, expectations in frames:
        results.update(_run(context, partial(_value_frame, path, columns, schema), expectations))
    for expectation in keyed:
        results.update(_run_keyed(context, path, schema, rows, expectation))
    ordered = [results[_key(e.configuration)] for e in suite.expectations]
    return ordered


def _run(context, load_frame: Callable[[], Any], expectations) -> dict[str, Any]:
    """Validate expectations on one frame, in a datasource of its own (fresh engine, no stale metrics).

    The engine's metric cache keeps row-sized arrays in reference cycles, so the garbage collector runs
    right after each frame. Freezing the heap first (and loading the frame after that) restricts that
    collection to the objects of this run: a full collection over everything Great Expectations loaded
    takes about half a second.
    """
    gx = _gx()

    name = f"gate-{uuid.uuid4().hex[:12]}"
    frozen_by_caller = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        datasource = context.data_sources.add_pandas(name)
        try:
            batch = (
                datasource.add_dataframe_asset("batch")
                .add_batch_definition_whole_dataframe("whole")
                .get_batch(batch_parameters={"dataframe": load_frame()})
            )
            part = gx.ExpectationSuite(name=name, expectations=[e.configuration for e in expectations])
            outcome = batch.validate(part, result_format=RESULT_FORMAT)
            del batch
        finally:
            context.data_sources.delete(name)
            del datasource
    finally:
        gc.collect()
        if not frozen_by_caller:  # leave a host's own freeze (e.g. before forking workers) in place
            gc.unfreeze()
        _release_arrow_memory()
    return {_key(r.expectation_config): r for r in outcome.results}


def _run_keyed(context, path: Path, schema, rows: int, expectation) -> dict[str, Any]:
    """Validate a compound-key expectation bucket by bucket (hash of the key) and add the results up.

    Rows with equal keys have equal hashes, so each duplicate is found inside one bucket. Reading is
    streamed: one pass assigns buckets (a small integer per row), then each bucket is gathered in turn.
    """
    columns = [c for c in _columns_of(expectation) if c in schema.names]
    buckets = max(1, math.ceil(rows / KEY_BUCKET_ROWS))
    if buckets == 1 or not columns:
        return _run(context, partial(_value_frame, path, columns, schema), [expectation])
    bucket_of = _bucket_ids(path, columns, schema, rows, buckets)
    parts = []
    for bucket in range(buckets):
        load = partial(_bucket_frame, path, columns, schema, bucket_of, bucket)
        parts.extend(_run(context, load, [expectation]).values())
    return {_key(expectation.configuration): _add_up(parts)}


def _bucket_ids(path: Path, columns: list[str], schema, rows: int, buckets: int):
    import numpy as np
    import pandas as pd

    bucket_of = np.empty(rows, dtype=np.uint16)
    start = 0
    for batch in _key_batches(path, columns, schema):
        frame = batch.to_pandas(date_as_object=False)
        hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()  # by value, not by dictionary code
        bucket_of[start : start + len(frame)] = hashes % buckets
        start += len(frame)
    return bucket_of


def _bucket_frame(path: Path, columns: list[str], schema, bucket_of, bucket: int):
    """The key columns of the rows of one bucket; the index is the row position in the file."""
    import numpy as np
    import pyarrow as pa

    pieces, start = [], 0
    for batch in _key_batches(path, columns, schema):
        mask = bucket_of[start : start + batch.num_rows] == bucket
        pieces.append(batch.filter(pa.array(mask)))
        start += batch.num_rows
    table = pa.Table.from_batches(pieces).unify_dictionaries()
    frame = table.to_pandas(types_mapper=_compact_dtype, date_as_object=False)
    frame.index = np.flatnonzero(bucket_of == bucket)
    return frame


def _key_batches(path: Path, columns: list[str], schema):
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(path, read_dictionary=_string_columns(columns, schema))
    yield from reader.iter_batches(batch_size=KEY_READ_ROWS, columns=columns)


def _add_up(parts: list):
    """One result from the results of the same map expectation on disjoint sets of rows."""
    from great_expectations.core import ExpectationValidationResult

    first = parts[0]
    totals = {k: sum(p.result.get(k) or 0 for p in parts) for k in ("element_count", "unexpected_count")}
    missing = sum(p.result.get("missing_count") or 0 for p in parts)
    nonmissing = totals["element_count"] - missing
    samples = [v for p in parts for v in p.result.get("partial_unexpected_list") or []][:20]
    indexes = [v for p in parts for v in p.result.get("partial_unexpected_index_list") or []][:20]
    result = {
        **totals,
        "missing_count": missing,
        "missing_percent": _percent(missing, totals["element_count"]),
        "unexpected_percent": _percent(totals["unexpected_count"], nonmissing),
        "unexpected_percent_total": _percent(totals["unexpected_count"], totals["element_count"]),
        "unexpected_percent_nonmissing": _percent(totals["unexpected_count"], nonmissing),
        "partial_unexpected_list": samples,
        "partial_unexpected_index_list": indexes,
        "partial_unexpected_counts": _counts(samples),
    }
    exception = next(
        (p.exception_info for p in parts if (p.exception_info or {}).get("raised_exception")), None
    )
    return ExpectationValidationResult(
        success=all(p.success for p in parts),
        expectation_config=first.expectation_config,
        result=result,
        meta=first.meta,
        exception_info=exception or first.exception_info,
    )


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else 100.0 * part / whole


def _counts(samples: list) -> list[dict]:
    counted: dict[str, dict] = {}
    for value in samples:
        key = json.dumps(value, sort_keys=True, default=str)
        counted.setdefault(key, {"value": value, "count": 0})["count"] += 1
    return sorted(counted.values(), key=lambda c: -c["count"])


def _key(configuration) -> str:
    """Identity of an expectation across the split suites (type, arguments and meta; batch_id left out)."""
    kwargs = {k: v for k, v in configuration.kwargs.items() if k != "batch_id"}
    return json.dumps([configuration.type, kwargs, configuration.meta or {}], sort_keys=True, default=str)


# --------------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------------


def _typed_dtype(arrow_type):
    """The dtype an Arrow type is checked as (never `object`, so type checks compare dtypes)."""
    import pandas as pd
    import pyarrow as pa

    from expectations.common import PANDAS_DTYPES

    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return None  # default conversion with date_as_object=False: datetime64
    name = PANDAS_DTYPES.get(arrow_type)
    return pd.api.types.pandas_dtype(name) if name else pd.ArrowDtype(arrow_type)


def _schema_frame(schema):
    """An empty frame with every column of the file, typed as the schema expectations see them."""
    return schema.empty_table().to_pandas(types_mapper=_typed_dtype, date_as_object=False)


def _compact_dtype(arrow_type):
    """Value frames keep pandas defaults (int64, float64 where NULLs, categoricals) except nullable bools."""
    import pandas as pd
    import pyarrow as pa

    return pd.BooleanDtype() if arrow_type == pa.bool_() else None


def _string_columns(columns: list[str], schema) -> list[str]:
    import pyarrow as pa

    return [
        c
        for c in columns
        if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)
    ]


def _value_frame(path: Path, columns: list[str], schema):
    """Whole columns for value checks: strings as categoricals, ints as int64 (float64 where NULLs)."""
    import pandas as pd
    import pyarrow.parquet as pq

    present = [c for c in columns if c in schema.names]  # a missing column fails its expectations
    if not present:
        return pd.DataFrame(index=pd.RangeIndex(pq.ParquetFile(path).metadata.num_rows))
    table = pq.read_table(path, columns=present, read_dictionary=_string_columns(present, schema))
    return table.to_pandas(types_mapper=_compact_dtype, date_as_object=False)


def _release_arrow_memory() -> None:
    """Hand memory Arrow freed back to the system (its allocator keeps it otherwise)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


# --------------------------------------------------------------------------------------------------
# Results: one suite result, readable lines, files
# --------------------------------------------------------------------------------------------------


def _suite_result(suite, results: list, gate_meta: dict, validated_at: dt.datetime):
    import great_expectations as gx_module
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier

    batch_id = f"{gate_meta['source_id']}-{gate_meta['dataset']}-{gate_meta['vintage']}"
    for result in results:  # each part ran in a datasource of its own; name the batch they all came from
        result.expectation_config.kwargs["batch_id"] = batch_id
    passed = sum(1 for r in results if r.success)
    statistics = {
        "evaluated_expectations": len(results),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(results) - passed,
        "success_percent": _percent(passed, len(results)) if results else 100.0,
    }
    run_id = RunIdentifier(run_name=f"{gate_meta['source_id']}-{gate_meta['vintage']}", run_time=validated_at)
    asset = f"{gate_meta['source_id']}.{gate_meta['dataset']}"
    meta = {
        "great_expectations_version": gx_module.__version__,
        "run_id": run_id.to_json_dict(),
        "validation_time": validated_at.isoformat(),
        "active_batch_definition": {
            "datasource_name": "staging",
            "data_connector_name": "parquet",
            "data_asset_name": asset,
            "batch_identifiers": {"vintage": gate_meta["vintage"]},
        },
        "batch_spec": {
            "data_asset_name": asset,
            "path": gate_meta["parquet_path"],
            "reader_method": "read_parquet",
        },
        "batch_markers": {"rows": gate_meta["rows"]},
        "gate": gate_meta,
    }
    return ExpectationSuiteValidationResult(
        success=gate_meta["passed"],
        results=results,
        suite_name=suite.name,
        statistics=statistics,
        meta=meta,
        batch_id=batch_id,
    )


def _store_and_render(context, suite, suite_result, source_id, dataset, vintage, validated_at) -> None:
    """Keep the result in the GX store and render its Data Docs page (plus the index); never fatal."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    suite_id = ExpectationSuiteIdentifier(name=suite.name)
    result_id = ValidationResultIdentifier(
        expectation_suite_identifier=suite_id,
        run_id=RunIdentifier(run_name=f"{source_id}-{vintage}", run_time=validated_at),
        batch_identifier=f"{source_id}-{dataset}-{vintage}",
    )
    try:
        context.expectations_store.set(suite_id, suite)  # for the suite's own Data Docs page
        context.validation_results_store.store_validation_results(
            suite_validation_result=suite_result,
            suite_validation_result_identifier=result_id,
            expectation_suite_identifier=suite_id,
        )
        context.build_data_docs(site_names=[_DOCS_SITE], resource_identifiers=[result_id, suite_id])
    except Exception as error:  # noqa: BLE001 - Data Docs are a view; the gate's JSON result is the record
        log.warning("Data Docs not updated for %s/%s %s: %s", source_id, dataset, vintage, _one_line(error))


def _describe(result) -> str:
    """One readable line for a failed expectation."""
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    head = f"{config.type}({_arguments(kwargs)})"
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return f"{head}: could not be evaluated: {_one_line(info.get('exception_message') or 'error')}"
    res = result.result or {}
    if "unexpected_count" in res and res.get("element_count") is not None:
        samples = _samples(res.get("partial_unexpected_list") or [])
        return f"{head}: {res['unexpected_count']} of {res['element_count']} rows, e.g. {samples}"
    if config.type == "expect_table_columns_to_match_ordered_list":
        return (
            f"{head}: {_column_difference(kwargs.get('column_list') or [], res.get('observed_value') or [])}"
        )
    if config.type == "expect_table_row_count_to_be_between":
        return f"{head}: observed {res.get('observed_value')} rows"
    return f"{head}: observed {res.get('observed_value')!r}"


def _arguments(kwargs: dict) -> str:
    parts = []
    for name in ("column", "column_A", "column_B"):
        if name in kwargs:
            parts.append(str(kwargs[name]))
    if "column_list" in kwargs and "column" not in kwargs:
        columns = kwargs["column_list"] or []
        parts.append(", ".join(columns) if len(columns) <= 6 else f"{len(columns)} columns")
    for name, label in (("min_value", "min"), ("max_value", "max"), ("type_", "type")):
        if kwargs.get(name) is not None:
            parts.append(f"{label}={_number(kwargs[name])}")
    if "value_set" in kwargs:
        parts.append(f"{len(kwargs['value_set'] or [])} allowed values")
    return ", ".join(parts)


def _number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _samples(values: list) -> str:
    shown = []
    for value in values[:SAMPLE_VALUES]:
        if isinstance(value, dict):
            value = {k: _plain(v) for k, v in value.items()}
        else:
            value = _plain(value)
        shown.append(value)
    return repr(shown)


def _plain(value):
    """A sample value as a person reads it: 3 not 3.0, 2024-12-31 not a midnight timestamp."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)


def _column_difference(expected: list[str], observed: list[str]) -> str:
    extra = [c for c in observed if c not in expected]
    missing = [c for c in expected if c not in observed]
    parts = [f"expected {len(expected)} columns, observed {len(observed)}"]
    if extra:
        parts.append(f"unexpected {extra}")
    if missing:
        parts.append(f"missing {missing}")
    if not extra and not missing:
        parts.append("same columns in another order")
    return "; ".join(parts)


def _summary_text(gate: dict, evaluated: int, result_path: Path) -> str:
    status = "PASSED" if gate["passed"] else f"FAILED ({len(gate['failed'])} of {evaluated} expectations)"
    lines = [
        f"{gate['source_id']} / {gate['dataset']} / vintage {gate['vintage']}: {status}, {gate['rows']} rows"
        + (f" (previous vintage: {gate['previous_rows']})" if gate.get("previous_rows") else ""),
        *[f"  - {line}" for line in gate["failed"]],
        f"  result: {result_path}",
    ]
    return "\n".join(lines) + "\n"


def _quarantine_summary(
    source_id: str, vintage: str, moved: dict[str, Path], results: list[GateResult]
) -> str:
    failed = [r for r in results if not r.passed]
    lines = [
        f"Quarantined: {source_id} vintage {vintage}",
        f"Reason: {len(failed)} of {len(results)} datasets failed the Great Expectations gate.",
        "",
    ]
    for result in sorted(results, key=lambda r: r.dataset):
        state = "FAILED" if not result.passed else "passed"
        lines.append(f"{result.dataset}: {state}, {result.rows} rows")
        lines.extend(f"  - {line}" for line in result.failed)
    lines.append("")
    lines.append("Moved partitions:")
    lines.extend(f"  {dataset}: {path}" for dataset, path in sorted(moved.items()))
    return "\n".join(lines) + "\n"


def _result_path(settings: Settings, source_id: str, vintage: str, dataset: str) -> Path:
    return settings.gate_dir / source_id / vintage / f"{dataset}.json"


def _write_json(path: Path, data: dict) -> None:
    _write_text(path, json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def _write_text(path: Path, text: str) -> None:
    """Write atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _staged_partition(settings: Settings, source_id: str, dataset: str, vintage: str, given) -> Path:
    """The partition folder of a staged dataset: the given file's folder when it is a vintage partition."""
    if given is not None:
        given = Path(given)
        folder = given if given.is_dir() else given.parent
        if folder.name == f"vintage={vintage}":
            return folder
    return partition_dir(settings.staging_dir, source_id, dataset, vintage)


def _staged_datasets(settings: Settings, source_id: str, vintage: str) -> set[str]:
    base = settings.staging_dir / source_id
    if not base.exists():
        return set()
    return {p.parent.name for p in base.glob(f"*/vintage={vintage}") if p.is_dir()}


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _one_line(error: BaseException | str) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
