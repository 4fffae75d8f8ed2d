"""Retrieval plan of citizenlab_testlists: the category legend, one list per configured country
(`settings.testlist_countries`, file names in lower case: `kz.csv`) and `global.csv`.

The spec's URLs are templates: `{country}` is expanded once per configured country, the other URLs are
taken as they are. Mirror mode looks the same names up in the mirror folder.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.registry import Request, SourceSpec

COUNTRY = "{country}"


def plan(spec: SourceSpec, settings, mirror: Path | None = None) -> list[Request]:
    requests: list[Request] = []
    for url in spec.urls:
        if COUNTRY in url:
            requests.extend(Request(url.replace(COUNTRY, cc.lower())) for cc in settings.testlist_countries)
        else:
            requests.append(Request(url))
    return requests
