"""The one list of sources. DAGs, the CLI and tests iterate over SOURCES; adding a source adds one entry."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceSpec:
    source_id: str  # <publisher>_<feed>; names the package, data paths, dbt folder, suite and DAG
    title: str
    urls: tuple[str, ...]  # every upstream file of one retrieval (one vintage)
    datasets: tuple[str, ...]  # staging datasets the parser can emit (see sources/<id>/schema.py)
    schedule: str  # cron for the ingest DAG
    content_types: tuple[str, ...] = ()  # accepted kinds of body, checked by sniffing (e.g. "zip")

    @property
    def package(self) -> str:
        return f"pipelines.sources.{self.source_id}"

    def module(self, name: str):
        return importlib.import_module(f"{self.package}.{name}")

    @property
    def parse_vintage(self) -> Callable:
        return self.module("parse").parse_vintage

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
)


def get_source(source_id: str) -> SourceSpec:
    for spec in SOURCES:
        if spec.source_id == source_id:
            return spec
    known = ", ".join(s.source_id for s in SOURCES)
    from pipelines.errors import PipelineError

    raise PipelineError(f"unknown source {source_id!r} (known: {known})")
