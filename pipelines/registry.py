"""The one list of sources. DAGs, the CLI and tests iterate over SOURCES; adding a source adds one entry."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """One upstream file of a retrieval, as planned by the source (see `SourceSpec.plan`).

    `parts`: `url` and `name` hold `{part:02d}`; parts 00, 01, … are retrieved in order until the first
    one that is missing (HTTP 404/410, or absent from the mirror); part 00 itself must exist.
    `fallback`: retrieved instead when this request's file (its part 00) is missing, e.g. a registry that
    publishes either `dump-00.csv`, `dump-01.csv`, … or a single `dump.csv`.
    """

    url: str
    name: str = ""  # file name in the raw vintage; default: the URL's last path segment
    params: tuple[tuple[str, str], ...] = ()  # query string, for API sources
    parts: bool = False
    fallback: Request | None = None


@dataclass(frozen=True)
class SourceSpec:
    source_id: str  # <publisher>_<feed>; names the package, data paths, dbt folder, suite and DAG
    title: str
    urls: tuple[str, ...]  # every upstream file of one retrieval (one vintage)
    datasets: tuple[str, ...]  # staging datasets the parser can emit (see sources/<id>/schema.py)
    schedule: str  # cron for the ingest DAG
    content_types: tuple[str, ...] = ()  # accepted kinds of body, checked by sniffing (e.g. "zip")
    # Datasets computed from the lake after each publish (pipelines/sources/<id>/derive.py), e.g. a registry's
    # history from all its snapshots; stored at lake/<id>/<dataset>/current/part-0.parquet.
    derived: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        return f"pipelines.sources.{self.source_id}"

    def module(self, name: str):
        return importlib.import_module(f"{self.package}.{name}")

    @property
    def parse_vintage(self) -> Callable:
        return self.module("parse").parse_vintage

    def plan(self, settings, mirror=None) -> list[Request]:
        """The files of one retrieval: `pipelines/sources/<id>/plan.py:plan(spec, settings, mirror)` when the
        source has one (configured countries, API windows, split files), else one Request per URL."""
        try:
            module = self.module("plan")
        except ModuleNotFoundError as error:
            if error.name != f"{self.package}.plan":
                raise
            return [Request(url) for url in self.urls]
        return module.plan(self, settings, mirror)

    def derive(self, settings, pending=None) -> dict:
        """Recompute the derived datasets from the lake (dataset -> path); {} for sources without any.
        `pending` = (vintage, staged dataset -> file): compute as if that vintage were in the lake, into
        files the caller moves to `current` after the gate (see run.gate_and_publish)."""
        return self.module("derive").derive(self, settings, pending) if self.derived else {}

    @property
    def schemas(self) -> dict:
        return self.module("schema").SCHEMAS

    @property
    def keys(self) -> dict:
        return self.module("schema").KEYS


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        source_id="google_removals",
        title="Google Transparency Report: government requests to remove content",
        urls=("https://storage.googleapis.com/transparencyreport/google-government-removals.zip",),
        datasets=(
            "requests_summary_historical",
            "requests_by_requester",
            "requests_granular",
            "requests_by_product_reason",
            "requests_by_product_reason_historical",
        ),
        schedule="0 6 * * 1",
        content_types=("zip",),
    ),
    SourceSpec(
        source_id="rkn_registry",
        title="Roskomnadzor registry of blocked resources (zapret-info mirror)",
        urls=("https://raw.githubusercontent.com/zapret-info/z-i/master/dump.csv",),
        datasets=("registry_snapshot",),
        derived=("registry_history",),
        schedule="0 5 * * *",
        content_types=("csv",),
    ),
    SourceSpec(
        source_id="citizenlab_testlists",
        title="Citizen Lab test lists (URLs tested for blocking) and category legend",
        urls=(
            "https://raw.githubusercontent.com/citizenlab/test-lists/master/lists/00-LEGEND-new_category_codes.csv",
            "https://raw.githubusercontent.com/citizenlab/test-lists/master/lists/{country}.csv",
            "https://raw.githubusercontent.com/citizenlab/test-lists/master/lists/global.csv",
        ),
        datasets=("category_codes", "testlist_urls"),
        schedule="0 4 * * 1",
        content_types=("csv",),
    ),
    SourceSpec(
        source_id="ooni_aggregates",
        title="OONI web_connectivity measurements aggregated by day and domain",
        urls=("https://api.ooni.io/api/v1/aggregation",),
        datasets=("ooni_domain_days", "ooni_windows"),
        schedule="30 3 * * *",
        content_types=("json",),
    ),
)


def get_source(source_id: str) -> SourceSpec:
    for spec in SOURCES:
        if spec.source_id == source_id:
            return spec
    known = ", ".join(s.source_id for s in SOURCES)
    from pipelines.errors import PipelineError

    raise PipelineError(f"unknown source {source_id!r} (known: {known})")
