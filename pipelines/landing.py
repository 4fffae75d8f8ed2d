"""Raw landing zone: every retrieved file kept byte-for-byte, one immutable folder per vintage.

Layout: <raw_dir>/<source_id>/<vintage>/<file name of the URL> plus `manifest.json`:

    {"source_id", "vintage", "mode": "mirror"|"live", "mirror": <absolute path or null>, "retrieved_at",
     "files": [{"name", "url", "retrieved_at", "bytes", "sha256", "http_status" (null for mirror),
                "etag", "last_modified", "content_type"}]}

Why a folder per vintage: parsers, the gate and the lake are all re-runnable from raw alone, and an
upstream that revises history (Google does) keeps every earlier copy. A vintage is never half-written:
files are streamed into `<raw_dir>/<source_id>/.tmp-*` and the folder is renamed into place in one step;
readers skip dot-folders. Vintages are immutable: re-landing a label with other bytes is an error.

Vintage ids: the UTC retrieval time `YYYY-MM-DDTHHMMSSZ`, or a label given for a backfill of a dated copy
(e.g. `2023-03`). Ordering is by id string (see `vintage_sort_key`), which places backfill labels
(`2023-03` < `2025-12` < `2026-03`) before timestamps of later retrievals (`2026-11-26T…Z`); a collision
suffix `-2`, `-3` … sorts numerically after its base. Retrieval times in the manifest are not used for
ordering: a backfill of an old copy is retrieved late but describes an early state of the upstream.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.errors import FetchError, PipelineError

MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"
VINTAGE_FORMAT = "%Y-%m-%dT%H%M%SZ"
_LABEL = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_SUFFIXED = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{6}Z)-(\d+)$")
_CHUNK = 1024 * 1024


@dataclass
class Landing:
    """Outcome of one retrieval: the vintage now holding the upstream's bytes, and whether it is new."""

    source_id: str
    vintage: str
    raw_dir: Path
    changed: bool
    manifest: dict


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def vintage_id(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(VINTAGE_FORMAT)


def vintage_sort_key(vintage: str) -> tuple[str, int]:
    """String order, except that a collision suffix counts as a number (…Z-10 after …Z-9)."""
    match = _SUFFIXED.match(vintage)
    return (match.group(1), int(match.group(2))) if match else (vintage, 0)


def check_vintage_label(vintage: str) -> str:
    """A vintage names a folder and a lake partition: keep it to a safe, short token."""
    if not _LABEL.match(vintage):
        raise PipelineError(
            f"invalid vintage {vintage!r}: use letters, digits, '-', '_' or '.', e.g. 2023-03"
        )
    return vintage


def source_dir(settings, source_id: str) -> Path:
    return settings.raw_dir / source_id


def vintage_dir(settings, source_id: str, vintage: str) -> Path:
    return source_dir(settings, source_id) / vintage


def read_manifest(raw_dir: Path) -> dict:
    """The manifest of one landed vintage folder."""
    path = Path(raw_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{raw_dir}: no {MANIFEST} (not a landed raw vintage)") from None
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{path}: unreadable manifest ({exc})") from None


def _vintage_ids(settings, source_id: str) -> list[str]:
    base = source_dir(settings, source_id)
    if not base.is_dir():
        return []
    ids = [p.name for p in base.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file()]
    return sorted(ids, key=vintage_sort_key)


def list_vintages(settings, source_id: str) -> list[dict]:
    """Manifests of every landed vintage of a source, oldest first (for `transparency status`)."""
    return [read_manifest(vintage_dir(settings, source_id, v)) for v in _vintage_ids(settings, source_id)]


def latest_vintage(settings, source_id: str) -> str | None:
    """The newest landed vintage id (by `vintage_sort_key`), or None before the first retrieval."""
    ids = _vintage_ids(settings, source_id)
    return ids[-1] if ids else None


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextlib.contextmanager
def staging(settings, source_id: str) -> Iterator[Path]:
    """A temporary folder beside the vintages (same file system, so the final rename is atomic).

    Always removed on exit: after a commit it has been renamed away, after a failure or an unchanged
    upstream its content is discarded, so no half-written vintage and no temp leftovers remain.
    """
    base = source_dir(settings, source_id)
    base.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=base))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _content(files: list[dict]) -> dict[str, str]:
    return {f["name"]: f["sha256"] for f in files}


def _reuse_not_modified(stage: Path, files: list[dict], previous: dict | None, previous_dir: Path | None):
    """Files answered with 304 are copied from the previous vintage so the new vintage is complete."""
    old = {f["url"]: f for f in previous["files"]} if previous else {}
    for record in files:
        if record.get("http_status") != 304:
            continue
        before = old.get(record["url"])
        if before is None or previous_dir is None:
            raise FetchError(f"{record['url']}: HTTP 304 but no earlier copy of {record['name']} is landed")
        shutil.copyfile(previous_dir / before["name"], stage / record["name"])
        record.update(bytes=before["bytes"], sha256=before["sha256"], content_type=before.get("content_type"))
        record["etag"] = record.get("etag") or before.get("etag")
        record["last_modified"] = record.get("last_modified") or before.get("last_modified")


def _write_manifest(stage: Path, manifest: dict) -> None:
    path = stage / MANIFEST
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _rename_into_place(stage: Path, target: Path) -> bool:
    """Rename the staged folder to `target`; False when `target` appeared meanwhile (another run)."""
    if target.exists():
        return False
    try:
        os.rename(stage, target)
    except OSError:
        if target.exists():
            return False
        raise
    return True


def _existing(settings, source_id: str, vintage: str) -> Landing:
    folder = vintage_dir(settings, source_id, vintage)
    return Landing(source_id, vintage, folder, False, read_manifest(folder))


def commit(
    settings,
    source_id: str,
    stage: Path,
    files: list[dict],
    *,
    mode: str,
    mirror: Path | None,
    started_at: datetime,
    vintage: str | None = None,
) -> Landing:
    """Turn a staged retrieval into a vintage, or report that the upstream is unchanged.

    `files` are the per-file manifest records of the files in `stage` (a record with http_status 304
    has no file yet). Unchanged means: every record is a 304, or the {name: sha256} set equals the newest
    vintage's; then nothing is written and the newest vintage is returned with changed=False. A given
    `vintage` label is landed even when equal to the newest (a backfill is an explicit request), unless
    that label exists: same content -> changed=False, other content -> FetchError (immutable).
    """
    previous_id = latest_vintage(settings, source_id)
    previous_dir = vintage_dir(settings, source_id, previous_id) if previous_id else None
    previous = read_manifest(previous_dir) if previous_dir else None
    if vintage is None and previous_id and files and all(f.get("http_status") == 304 for f in files):
        return _existing(settings, source_id, previous_id)
    _reuse_not_modified(stage, files, previous, previous_dir)

    if vintage is not None:
        check_vintage_label(vintage)
        if vintage_dir(settings, source_id, vintage).exists():
            return _same_or_refuse(settings, source_id, vintage, files)
    elif previous is not None and _content(previous["files"]) == _content(files):
        return _existing(settings, source_id, previous_id)

    base = vintage or vintage_id(started_at)
    for attempt in range(1, 1000):
        candidate = base if attempt == 1 else f"{base}-{attempt}"
        manifest = {
            "source_id": source_id,
            "vintage": candidate,
            "mode": mode,
            "mirror": str(Path(mirror).resolve()) if mirror is not None else None,
            "retrieved_at": iso(started_at),
            "files": files,
        }
        _write_manifest(stage, manifest)
        target = vintage_dir(settings, source_id, candidate)
        if _rename_into_place(stage, target):
            return Landing(source_id, candidate, target, True, manifest)
        if vintage is not None:  # appeared while we were downloading
            return _same_or_refuse(settings, source_id, vintage, files)
    raise FetchError(f"{source_id}: could not find a free vintage folder for {base}")


def _same_or_refuse(settings, source_id: str, vintage: str, files: list[dict]) -> Landing:
    landed = _existing(settings, source_id, vintage)
    if _content(landed.manifest["files"]) == _content(files):
        return landed
    raise FetchError(
        f"raw vintage {source_id}/{vintage} already exists with different content "
        "(raw vintages are immutable; land the new bytes under another vintage)"
    )
