"""Retrieval plan of ooni_aggregates: one aggregation request per configured country and window.

Live: for each country of `settings.ooni_countries`, the window is `parse.refetch_window(last loaded day,
run date, first_day=settings.ooni_since)`, where the last loaded day is the newest `measurement_day` of
that country in the lake (over every vintage of `ooni_domain_days`): the last REFETCH_DAYS loaded days are
asked again (late uploads still change them) plus every day up to the run date. A long first window is
split into requests of at most MAX_WINDOW_DAYS days, so no single answer grows without bound. Each response
lands as `aggregation_<CC>_<since>_<until>.json` (the body does not say what was asked; the name does).

Mirror: a mirror holds what the API answered, so the plan is the folder's response files for the
configured countries (the window is read from each name).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import lake
from pipelines.errors import LayoutError, PipelineError
from pipelines.registry import Request, SourceSpec
from pipelines.sources.ooni_aggregates.parse import (
    DATASET,
    SOURCE_ID,
    parse_raw_name,
    raw_file_name,
    refetch_window,
    request_params,
)

MAX_WINDOW_DAYS = 31


def plan(spec: SourceSpec, settings, mirror: Path | None = None) -> list[Request]:
    if mirror is not None:
        return mirror_plan(spec, settings, Path(mirror))
    requests: list[Request] = []
    today = settings.run_date()
    for country in settings.ooni_countries:
        last = last_loaded_day(settings, country)
        try:
            since, until = refetch_window(last, today, first_day=settings.ooni_since)
        except ValueError as error:
            raise PipelineError(f"{SOURCE_ID} {country}: cannot plan the window: {error}") from None
        requests.extend(request(spec, country, a, b) for a, b in split_window(since, until))
    return requests


def request(spec: SourceSpec, country: str, since: dt.date, until: dt.date) -> Request:
    params = tuple(request_params(country, since, until).items())
    return Request(spec.urls[0], name=raw_file_name(country, since, until), params=params)


def split_window(
    since: dt.date, until: dt.date, max_days: int = MAX_WINDOW_DAYS
) -> list[tuple[dt.date, dt.date]]:
    """[since, until) cut into consecutive windows of at most `max_days` days (until exclusive)."""
    windows = []
    while since < until:
        end = min(since + dt.timedelta(days=max_days), until)
        windows.append((since, end))
        since = end
    return windows


def last_loaded_day(settings, country: str) -> dt.date | None:
    """Newest measurement_day of `country` over the lake's vintages of ooni_domain_days (None: none yet).

    Reads two columns of each partition, filtered on the country: a few days per vintage, cheap.
    """
    newest = None
    for vintage in lake.lake_vintages(settings.lake_dir, SOURCE_ID, DATASET):
        path = lake.partition_dir(settings.lake_dir, SOURCE_ID, DATASET, vintage) / lake.PART
        table = pq.read_table(path, columns=["measurement_day"], filters=[("country_code", "=", country)])
        if table.num_rows:
            day = pc.max(table.column("measurement_day")).as_py()
            newest = day if newest is None else max(newest, day)
    return newest


def mirror_plan(spec: SourceSpec, settings, folder: Path) -> list[Request]:
    """The response files of the folder for the configured countries, in name order."""
    if not folder.is_dir():
        return []
    countries = set(settings.ooni_countries)
    requests = []
    for path in sorted(folder.glob("aggregation_*.json")):
        try:
            country, since, until = parse_raw_name(path.name)
        except LayoutError:
            continue
        if country in countries:
            requests.append(request(spec, country, since, until))
    return requests
