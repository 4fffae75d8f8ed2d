"""Retrieval plan of rkn_registry: zapret-info publishes the registry either split into `dump-00.csv`,
`dump-01.csv`, … (newer dumps) or as one `dump.csv` (older ones). The split form is tried first, parts in
order until the first missing one; when `dump-00.csv` is missing, `dump.csv` is retrieved instead.

The folder comes from the spec's URL (so a test can point the spec at a local server); in mirror mode the
same names are looked up in the mirror folder.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.registry import Request, SourceSpec

SPLIT_NAME = "dump-{part:02d}.csv"
SINGLE_NAME = "dump.csv"


def plan(spec: SourceSpec, settings, mirror: Path | None = None) -> list[Request]:
    folder = spec.urls[0].rsplit("/", 1)[0]
    return [
        Request(f"{folder}/{SPLIT_NAME}", parts=True, fallback=Request(f"{folder}/{SINGLE_NAME}")),
    ]
