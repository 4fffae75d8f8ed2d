"""The snapshots of a backfill folder, in the order of their `Updated:` lines (`transparency backfill`).

A folder of historical registry dumps may hold, side by side:
- snapshot files: any `*.csv` directly in the folder (e.g. zapret-info's `dump-2012-11-25T1934.csv`), one
  snapshot each, landed under the raw name `dump.csv` — except files named like split parts
  (`dump-00.csv`, `dump-01.csv`, …), which together form one snapshot (the folder itself is a snapshot);
- subfolders holding one snapshot each: `dump.csv`, or split parts `dump-00.csv`, `dump-01.csv` … (raw
  names kept). Subfolders without any `.csv` file are ignored.

Each snapshot's vintage is vintage_of(its `Updated:` time), read from the first line of its first file only,
so the order does not depend on file names and a snapshot found twice lands in the same vintage. Two
snapshots with the same `Updated:` time and identical bytes are one (listed once); different bytes under
the same time are an error naming both files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pipelines.errors import ParseError, PipelineError
from pipelines.sources.rkn_registry.parse import (
    DUMP_FILE,
    MAX_UPDATED_LINE,
    PART_RE,
    snapshot_files,
    split_parts,
    split_updated,
    vintage_of,
)

Snapshot = tuple[str, dict[str, Path]]  # (vintage, {raw file name: path})


def snapshots(folder: Path) -> list[Snapshot]:
    """(vintage, {raw name: path}) per snapshot of `folder`, oldest `Updated:` first (see module doc)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PipelineError(f"backfill folder not found: {folder}")
    found: dict[dt.datetime, dict[str, Path]] = {}
    for files in _candidates(folder):
        updated = _updated_at(next(iter(files.values())), folder)
        if updated in found:  # the same snapshot found twice, or two that claim one time: read them
            kept = found[updated]
            if _fingerprint(kept) != _fingerprint(files):
                raise PipelineError(
                    f"{_label(kept, folder)} and {_label(files, folder)}: same 'Updated:' time "
                    f"{updated.isoformat()} but different contents"
                )
            continue
        found[updated] = files
    if not found:
        raise PipelineError(
            f"backfill folder {folder} holds no snapshot (*.csv files or snapshot subfolders)"
        )
    return [(vintage_of(at), found[at]) for at in sorted(found)]


def _candidates(folder: Path) -> list[dict[str, Path]]:
    """Every snapshot of the folder as {raw name: path}, in path order (ties keep the first path)."""
    top = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    parts = [p for p in top if PART_RE.match(p.name)]
    candidates = [{DUMP_FILE: p} for p in top if not PART_RE.match(p.name)]
    if parts:
        candidates.append({p.name: p for p in split_parts(folder)})
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if any(p.suffix.lower() == ".csv" for p in sub.iterdir() if p.is_file()):
            candidates.append({p.name: p for p in snapshot_files(sub)})
    return candidates


def _updated_at(path: Path, folder: Path) -> dt.datetime:
    """The `Updated:` time of a snapshot's first file; a one-line ParseError naming the file otherwise."""
    name = str(path.relative_to(folder))
    try:
        with path.open("rb") as stream:
            first = stream.readline(MAX_UPDATED_LINE + 2)
    except OSError as error:
        raise ParseError(f"{name}: unreadable: {error.strerror or error}") from None
    updated, _ = split_updated(first, name, required=True)
    assert updated is not None
    return updated


def _fingerprint(files: dict[str, Path]) -> str:
    """sha256 over the raw names and bytes: what landing compares to tell the same retrieval."""
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0")
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _label(files: dict[str, Path], folder: Path) -> str:
    paths = sorted(str(p.relative_to(folder)) for p in files.values())
    return paths[0] if len(paths) == 1 else f"{paths[0]} … {paths[-1]}"
