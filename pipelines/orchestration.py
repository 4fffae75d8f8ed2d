"""Thin callables behind the Airflow tasks (dags/*.py), and the Assets that chain the DAGs.

Why a module of its own: DAG files are imported by the DAG processor every few seconds, so they must stay
cheap. They import only this module and pipelines.registry; everything heavy (pipelines.run, Great
Expectations, dbt, DuckDB, pandas) is imported inside the functions below, which run only in a task.

Values crossing task boundaries go through XCom, so they are small and JSON-friendly: vintage ids and
paths as strings, never Settings, DataFrames or Path objects.

Assets use the scheme `x-transparency://` (Airflow leaves `x-` schemes unnormalised); they name the lake of
one source and the marts, not a file path, because the data directory is only known at run time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import FetchError, PipelineError

if TYPE_CHECKING:
    from airflow.sdk import Asset

ASSET_SCHEME = "x-transparency"
MIRROR_ENV = "TRANSPARENCY_MIRROR"


# ---------------------------------------------------------------- assets


def lake_asset(source_id: str) -> Asset:
    """The lake of one source: updated by ingest__<source_id>.publish, consumed by transform__marts."""
    from airflow.sdk import Asset

    return Asset(name=f"lake__{source_id}", uri=f"{ASSET_SCHEME}://lake/{source_id}", group="lake")


def marts_asset() -> Asset:
    """The DuckDB marts (schema `marts` of warehouse.duckdb): updated by transform__marts."""
    from airflow.sdk import Asset

    return Asset(name="marts", uri=f"{ASSET_SCHEME}://warehouse/marts", group="warehouse")


# ---------------------------------------------------------------- failures


@contextlib.contextmanager
def fail_fast() -> Iterator[None]:
    """Turn a deterministic pipeline error into a failure Airflow does not retry.

    A retry cannot fix a bad file, a failed gate or a dbt test; it would only repeat the same error (and
    quarantine twice). FetchError is the exception: flaky networks are what retries are for. The message
    stays the pipeline's one line.
    """
    try:
        yield
    except FetchError:
        raise
    except PipelineError as error:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{type(error).__name__}: {error}") from error


# ---------------------------------------------------------------- ingest


def resolve_mirror(spec, mirror: str | None) -> tuple[Path | None, str | None]:
    """(folder holding the upstream file, vintage label or None) for a `mirror` DAG parameter.

    A relative path is taken from the project folder; a mirror of several sources (like data/samples)
    holds each in DIR/<source_id>/. A dated mirror (DIR/<vintage>/<file>) yields its newest copy under its
    folder name: one DAG run lands one vintage; loading every dated copy is `transparency run --mirror DIR`.
    """
    if not mirror:
        return None, None
    from pipelines.fetch import mirror_vintages
    from pipelines.settings import PROJECT_DIR, load_settings

    path = Path(mirror).expanduser()
    path = path if path.is_absolute() else PROJECT_DIR / path
    if not path.is_dir():
        raise FetchError(f"mirror folder not found: {path}")
    return mirror_vintages(path, spec, load_settings())[-1]


def fetch(source_id: str, mirror: str | None = None, live: bool = False, vintage: str | None = None) -> dict:
    """Land the upstream files as a raw vintage; returns {source_id, vintage, raw_dir, changed}."""
    from pipelines.fetch import fetch_source
    from pipelines.registry import get_source
    from pipelines.settings import load_settings

    if bool(mirror) == bool(live):
        raise PipelineError(f"set one of the params mirror (default ${MIRROR_ENV}) or live=true")
    spec = get_source(source_id)
    folder, label = resolve_mirror(spec, mirror)
    landing = fetch_source(spec, load_settings(), mirror=folder, live=bool(live), vintage=vintage or label)
    return {
        "source_id": landing.source_id,
        "vintage": landing.vintage,
        "raw_dir": str(landing.raw_dir),
        "changed": bool(landing.changed),
    }


def parse(source_id: str, landed: dict) -> dict[str, str] | None:
    """Stage the landed vintage as Parquet (dataset -> path); None when there is nothing new to parse."""
    from types import SimpleNamespace

    from pipelines import run
    from pipelines.registry import get_source
    from pipelines.settings import load_settings

    spec, settings = get_source(source_id), load_settings()
    landing = SimpleNamespace(**landed)
    if not run.needs_parse(spec, settings, landing):
        return None
    staged = run.stage_vintage(spec, settings, landing.vintage, Path(landing.raw_dir))
    return {dataset: str(path) for dataset, path in staged.items()}


def gate(source_id: str, vintage: str, staged: dict[str, str]) -> None:
    """Great Expectations gate; GateFailed (batches quarantined) when any suite fails."""
    from pipelines import run
    from pipelines.registry import get_source
    from pipelines.settings import load_settings

    run.gate_vintage(get_source(source_id), load_settings(), vintage, _paths(staged))


def publish(source_id: str, vintage: str, staged: dict[str, str]) -> dict[str, int]:
    """Move the gated partitions into the lake; returns dataset -> rows now live."""
    from pipelines import lake, run
    from pipelines.registry import get_source
    from pipelines.settings import load_settings

    published = run.publish_to_lake(get_source(source_id), load_settings(), vintage, _paths(staged))
    return {dataset: lake.row_count(path) for dataset, path in published.items()}


def _paths(staged: dict[str, str]) -> dict[str, Path]:
    return {dataset: Path(path) for dataset, path in staged.items()}


# ---------------------------------------------------------------- transform and publish


def build_marts() -> str:
    """dbt build of the marts into warehouse.duckdb; returns the warehouse path."""
    from pipelines import warehouse
    from pipelines.settings import load_settings

    return str(warehouse.build(load_settings()))


def previous_quarter(moment: date | datetime) -> str:
    """The quarter before the one holding `moment`, as "YYYYQn" (2026-04-01 -> 2026Q1, 2026-01-01 -> 2025Q4).

    The publish DAG runs at the start of a quarter and publishes the quarter that just ended.
    """
    quarter = (moment.month - 1) // 3 + 1
    return f"{moment.year - 1}Q4" if quarter == 1 else f"{moment.year}Q{quarter - 1}"


def run_moment(context: Any) -> datetime:
    """The date a run stands for: its logical date, or (runs without one, Airflow 3) when it was due."""
    return context.get("logical_date") or context["dag_run"].run_after


def publish_quarter(quarter: str, country: str | None = None) -> str:
    """Write the quarter's publication (CSV, XLSX, Markdown + manifest); returns its folder."""
    from pipelines import publish as publication
    from pipelines.settings import load_settings

    return str(publication.publish_quarter(load_settings(), quarter, country=country or None))
