"""The Great Expectations gate between staging and the lake.

`validate_batch` runs the suite of expectations/<source_id>.py over one staged Parquet file and writes the
Great Expectations validation result (JSON) and a readable summary to settings.gate_dir; a failed batch is
moved to the quarantine zone by `quarantine_batch`; `build_data_docs` renders the results as HTML.

How a batch is validated (Great Expectations 1.x). Most expectations run on GX's SQL engine over DuckDB: a
DuckDB database in memory holds one view, `batch`, over read_parquet('<staged file>'); GX bundles the
aggregate checks (NOT NULL, ranges, row count) into one scan and reads the column types from the view. Three
kinds of expectation run instead on GX's pandas engine, on a frame of their own columns read from the
Parquet file (strings as pandas categoricals), because DuckDB evaluates GX's SQL for them slowly or not at
all (measured on 5 million rows):

- value sets (`expect_column_values_to_be_in_set`): GX writes `CASE WHEN x NOT IN (<250 codes>)`, which
  DuckDB checks code by code on every row (about 3 s); pandas checks the categories once;
- compound-key uniqueness: GX joins every row back to its group count (about 5 s, plus as much again for
  the sample rows); pandas hashes the category codes (about 1.5 s);
- regular expressions: GX has no regex operator for the DuckDB dialect.

The two parts run at the same time (the pandas part in a thread, see `_validate`): on 5 million rows the
gate takes about 3 s instead of 4-4.5 s.

All results are assembled into one ExpectationSuiteValidationResult in the order of the suite, stored in the
Great Expectations validation results store (for Data Docs) and written to
gate_dir/<source_id>/<vintage>/<dataset>.json, with a `.txt` summary beside it.

Great Expectations is imported inside functions (the import takes seconds); one data context per data dir
is kept for the life of the process.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import PipelineError
from pipelines.lake import partition_dir, replace_dir
from pipelines.settings import Settings

log = logging.getLogger(__name__)

SAMPLE_VALUES = 3  # unexpected values quoted in a failure line
DOCS_RESULTS_LIMIT = 500  # validation results listed (and rendered) by a full Data Docs build
# Counts plus up to 20 sample unexpected values per expectation. SUMMARY would add the samples' row
# numbers and value counts, which cost the pandas engine half a second on 5 million rows.
RESULT_FORMAT = "BASIC"
DUCKDB_SETTINGS = {"memory_limit": "'512MB'", "threads": "2"}  # for the in-memory database of one batch

# Expectations validated on the pandas engine (see the module docstring); all others run on DuckDB.
PANDAS_EXPECTATIONS = frozenset(
    {
        "expect_column_values_to_be_in_set",
        "expect_compound_columns_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
    }
)


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
    notes: list[str] = field(default_factory=list)  # the source's own remarks on the batch (`notes` hook)

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
            "notes": list(self.notes),
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
        results = _validate(context, suite, parquet_path, schema)
    except PipelineError:
        raise
    except Exception as error:  # a Great Expectations, DuckDB or pandas malfunction, not a data problem
        raise PipelineError(
            f"gate could not validate {source_id}/{dataset} vintage {vintage}: {_one_line(error)}"
        ) from error

    failed = [_describe(r) for r in results if not r.success]
    notes = _notes(source_id, dataset, parquet_path)
    validated_at = dt.datetime.now(dt.UTC)
    gate_meta = {
        "source_id": source_id,
        "dataset": dataset,
        "vintage": vintage,
        "rows": rows,
        "passed": not failed,
        "failed": failed,
        "notes": notes,
        "previous_rows": previous_rows,
        "parquet_path": str(parquet_path),
        "validated_at": validated_at.isoformat(timespec="microseconds"),
    }
    suite_result = _suite_result(suite, results, gate_meta, validated_at)
    result_path = _result_path(settings, source_id, vintage, dataset)
    summary = _summary_text(gate_meta, len(results), result_path)
    _write_json(result_path, suite_result.to_json_dict())
    _write_text(result_path.with_suffix(".txt"), summary)
    _store(context, suite, suite_result, source_id, dataset, vintage, validated_at)
    return GateResult(
        source_id=source_id,
        dataset=dataset,
        vintage=vintage,
        passed=not failed,
        rows=rows,
        failed=failed,
        result_path=result_path,
        summary=summary,
        notes=notes,
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
    """Import Great Expectations once, with analytics off, batch fingerprints skipped and DuckDB enabled."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # The pandas engine fingerprints every frame (an md5 of a full hash of the data) as a batch marker;
    # the gate never reads it, and on a 5-million-row column it costs about half a second.
    pandas_execution_engine.HASH_THRESHOLD = 0
    # GX warns on every SQL type check that DuckDB has no types module of its own; the SQLAlchemy types
    # it falls back to are the ones the suites name.
    logging.getLogger("great_expectations.expectations.type_comparison").setLevel(logging.ERROR)
    _enable_duckdb()
    return gx


class _DuckDBDialectName(str):
    """The name `duckdb` as an entry of GX's persisted-connection dialects (GX reads `.value` of each)."""

    value = "duckdb"


def _enable_duckdb() -> None:
    """Two fixes so that GX 1.24 works on DuckDB through duckdb-engine 0.17 and SQLAlchemy 2.1.

    - GX reads a query's rows after handing its connection back to the pool, and duckdb-engine's connection
      drops a pending result on that rollback: every metric comes back empty (GX issue 11579, `list index
      out of range`). GX keeps one open connection for the dialects in _PERSISTED_CONNECTION_DIALECTS
      (sqlite, mssql…); DuckDB joins them.
    - Column reflection: duckdb-engine runs SQLAlchemy's PostgreSQL catalog query, which on SQLAlchemy 2.1
      reads pg_catalog.pg_collation, a table DuckDB does not have, so GX would see no column types.
      DESCRIBE gives them, named as DuckDB names them (BIGINT, DOUBLE, VARCHAR, BOOLEAN, DATE…).
    """
    import duckdb_engine
    from great_expectations.execution_engine import sqlalchemy_execution_engine as sql_engine

    if "duckdb" not in sql_engine._PERSISTED_CONNECTION_DIALECTS:
        sql_engine._PERSISTED_CONNECTION_DIALECTS += (_DuckDBDialectName("duckdb"),)
    duckdb_engine.Dialect.get_columns = _describe_columns


def _describe_columns(dialect, connection, table_name: str, schema: str | None = None, **kw) -> list[dict]:
    rows = connection.exec_driver_sql(f"DESCRIBE {dialect.identifier_preparer.quote(table_name)}").fetchall()
    return [
        {"name": name, "type": _sql_type(kind), "nullable": null == "YES", "default": None}
        for name, kind, null, *_ in rows
    ]


def _sql_type(duckdb_type: str):
    """The SQLAlchemy type named like the DuckDB type (DECIMAL(18,3) is DECIMAL; every timestamp TIMESTAMP)."""
    import sqlalchemy as sa

    name = "TIMESTAMP" if duckdb_type.startswith("TIMESTAMP") else duckdb_type.split("(")[0]
    return getattr(sa.types, name, sa.types.NullType)()


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


def _notes(source_id: str, dataset: str, parquet_path: Path) -> list[str]:
    """Lines from the optional hook `notes(dataset, parquet_path)` of expectations/<source_id>.py.

    What a source wants a person to read about a batch without failing it (e.g. the registry's repeated
    lines); a source without the hook has no notes. Never fatal: a batch the hook cannot read (wrong
    columns…) is failed by its expectations, and the note says why it has no notes.
    """
    hook = getattr(importlib.import_module(f"expectations.{source_id}"), "notes", None)
    if hook is None:
        return []
    try:
        return [str(line) for line in hook(dataset, parquet_path)]
    except Exception as error:  # noqa: BLE001 - notes are remarks; the expectations decide the batch
        return [f"notes unavailable: {_one_line(error)}"]


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
# Validation: the suite split between DuckDB and pandas frames, the results put back in suite order
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


def _validate(context, suite, path: Path, schema) -> list:
    """Every expectation of the suite validated once; results in suite order.

    The two parts run side by side: a thread reads the pandas frame and validates the pandas part while
    GX runs the DuckDB part. DuckDB, Arrow's Parquet reader and pandas' hash tables work without the GIL,
    so on two cores the two parts overlap. Both datasources are added before the thread starts and removed
    after it ended, so the context's datasources never change while a part validates; each part has its
    own datasource and execution engine.
    """
    on_pandas = [e for e in suite.expectations if e.expectation_type in PANDAS_EXPECTATIONS]
    on_duckdb = [e for e in suite.expectations if e.expectation_type not in PANDAS_EXPECTATIONS]
    columns = list(dict.fromkeys(c for e in on_pandas for c in _columns_of(e)))
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        sql_batch = stack.enter_context(_duckdb_batch(context, path)) if on_duckdb else None
        frame_definition = stack.enter_context(_frame_definition(context)) if on_pandas else None

        def pandas_part() -> dict[str, Any]:
            frame = _read_frame(path, columns, schema)
            return _run(frame_definition.get_batch(batch_parameters={"dataframe": frame}), on_pandas)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-pandas") as pool:
            on_frame = pool.submit(pandas_part) if on_pandas else None
            try:
                if sql_batch is not None:
                    results.update(_run(sql_batch, on_duckdb))
            finally:
                if on_frame is not None:
                    results.update(on_frame.result())
    return [results[_key(e.configuration)] for e in suite.expectations]


def _run(batch, expectations) -> dict[str, Any]:
    """Validate in two passes: the row-wise expectations with BOOLEAN_ONLY (no unexpected counts or
    samples, which cost GX one more query per expectation: half the gate's time on a small batch), then
    the failed ones again with RESULT_FORMAT, so that a failure still reports its counts and samples."""
    gx = _gx()

    def validate(configurations, result_format) -> dict[str, Any]:
        part = gx.ExpectationSuite(name="gate-part", expectations=configurations)
        outcome = batch.validate(part, result_format=result_format)
        return {_key(r.expectation_config): r for r in outcome.results}

    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    row_wise = [
        isinstance(e, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation)
        for e in expectations
    ]
    # Aggregate expectations (row count, columns, types) are one cheap metric each and Data Docs need
    # their observed value: those run with RESULT_FORMAT at once.
    results = (
        validate(
            [e.configuration for e, quick in zip(expectations, row_wise, strict=True) if quick],
            "BOOLEAN_ONLY",
        )
        if any(row_wise)
        else {}
    )
    again = [
        e.configuration
        for e, quick in zip(expectations, row_wise, strict=True)
        if not quick or not results[_key(e.configuration)].success
    ]
    if again:
        results.update(validate(again, RESULT_FORMAT))
    return results


@contextmanager
def _duckdb_batch(context, path: Path):
    """A GX batch on a view over the Parquet file, in an in-memory DuckDB database of its own.

    The database is named, so the connection that creates the view and GX's own connection share it.
    """
    name = f"gate_{uuid.uuid4().hex[:12]}"
    datasource = context.data_sources.add_sql(name, connection_string=f"duckdb:///:memory:{name}")
    engine = datasource.get_engine()
    try:
        with engine.begin() as connection:  # the pool keeps it open, and with it the database
            for setting, value in DUCKDB_SETTINGS.items():
                connection.exec_driver_sql(f"SET {setting} = {value}")
            source = str(path).replace("'", "''")
            # hive_partitioning off: the staged file lies in a `vintage=<v>` folder, and DuckDB would
            # otherwise read the file's own `vintage` column from the folder name.
            connection.exec_driver_sql(
                f"CREATE VIEW batch AS SELECT * FROM read_parquet('{source}', hive_partitioning = false)"
            )
        asset = datasource.add_table_asset("batch", table_name="batch")
        yield asset.add_batch_definition_whole_table("whole").get_batch()
    finally:
        datasource.get_execution_engine().close()
        engine.dispose()
        context.data_sources.delete(name)


def _read_frame(path: Path, columns: list[str], schema):
    """Whole columns of the file as a pandas frame, strings as categoricals (read as dictionaries)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    present = [c for c in columns if c in schema.names]  # a missing column fails its expectations
    strings = [c for c in present if schema.field(c).type in (pa.string(), pa.large_string())]
    parquet = pq.ParquetFile(path, read_dictionary=strings)  # pq.read_table would import pyarrow.dataset: 2 s
    if not present:
        return pd.DataFrame(index=pd.RangeIndex(parquet.metadata.num_rows))
    table = parquet.read(columns=present)
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed memory otherwise
    return frame


@contextmanager
def _frame_definition(context):
    """A GX pandas datasource of its own, with the batch definition of a whole frame.

    Its engine caches every metric (row-sized arrays included) for as long as the datasource lives.
    """
    name = f"gate-frame-{uuid.uuid4().hex[:12]}"
    datasource = context.data_sources.add_pandas(name)
    try:
        yield datasource.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")
    finally:
        context.data_sources.delete(name)


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else 100.0 * part / whole


def _key(configuration) -> str:
    """Identity of an expectation across the split suites (type, arguments and meta; batch_id left out)."""
    kwargs = {k: v for k, v in configuration.kwargs.items() if k != "batch_id"}
    return json.dumps([configuration.type, kwargs, configuration.meta or {}], sort_keys=True, default=str)


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


def _store(context, suite, suite_result, source_id, dataset, vintage, validated_at) -> None:
    """Keep the suite and the result in the GX stores, for `build_data_docs`; never fatal.

    Rendering is left to `build_data_docs` (the pipeline calls it once after the batches of a vintage):
    rendering a page costs about a second, more than validating most batches.
    """
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
    except Exception as error:  # noqa: BLE001 - Data Docs are a view; the gate's JSON result is the record
        log.warning(
            "result not stored for Data Docs: %s/%s %s: %s", source_id, dataset, vintage, _one_line(error)
        )


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
        *[f"  note: {line}" for line in gate.get("notes") or []],
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
        lines.extend(f"  note: {line}" for line in result.notes)
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
