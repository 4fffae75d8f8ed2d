"""Retrieval: copy a source's upstream files into the raw landing zone, from a local mirror or over HTTP.

What to retrieve is the source's plan (`SourceSpec.plan`, a list of `registry.Request`): one URL per file,
query parameters for APIs, files split into numbered parts (retrieved in order until the first missing
one), and a fallback retrieved when a request's file is missing. "Missing" is HTTP 404/410 live and an
absent file in a mirror; a missing part 00 without a fallback is an error.

Live mode is built for flaky public endpoints: bounded retries with exponential back-off on timeouts,
connection errors, 5xx and 429 (Retry-After honoured, capped), immediate failure on other 4xx, a size cap
checked against Content-Length up front and while streaming, a Content-Length/bytes-received check, a
conditional GET from the newest vintage's ETag / Last-Modified of the file of the same name (304 -> nothing
new; keyed by file name because several requests of an API share one URL), and content sniffing (an HTML
error page served with status 200 instead of a zip is refused). Bodies are hashed while they stream, so an
unchanged upstream is recognised without reading anything twice. Every failure is one FetchError line
naming the URL or path.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import mimetypes
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlencode, urlsplit

import httpx

from pipelines import landing
from pipelines.errors import FetchError, PipelineError
from pipelines.landing import Landing
from pipelines.registry import Request, SourceSpec

log = logging.getLogger(__name__)

USER_AGENT = "transparency-pipeline/0.1 (+https://github.com/; open data on content removals)"
RETRY_AFTER_CAP_S = 60.0  # longest wait a server's Retry-After can impose; settings.extra may lower it
MAX_PARTS = 1000  # a split file with more parts than this is refused (a server answering 200 to anything)
MISSING_STATUSES = (404, 410)
SNIFF_BYTES = 64
SHOWN_CHARS = 14  # how much of an unexpected body the error message quotes
_CHUNK = 256 * 1024
_ZIP_MAGIC = b"PK\x03\x04"


class _Retryable(Exception):
    """An attempt failed in a way worth retrying; carries the one-line reason and a server-asked delay."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class _Missing(Exception):
    """The requested file does not exist upstream (HTTP 404/410, or absent from the mirror); `where` is
    what an error message names (the URL, or the mirror path)."""

    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where = where


# One planned file, resolved: (url with its query string, file name in the raw vintage).
Target = tuple[str, str]
# Retrieves one target into the stage; raises _Missing when allowed to and the file does not exist.
Getter = Callable[[Target, bool], dict]


def fetch_source(
    spec: SourceSpec,
    settings,
    mirror: Path | None = None,
    live: bool = False,
    vintage: str | None = None,
) -> Landing:
    """Retrieve every file of `spec`'s plan and land them as one vintage (or report it unchanged)."""
    if mirror is None and not live:
        raise PipelineError("choose --mirror DIR or --live")
    if mirror is not None and live:
        raise PipelineError("choose either --mirror DIR or --live, not both")
    if vintage is not None:
        landing.check_vintage_label(vintage)
    mirror = Path(mirror) if mirror is not None else None
    if mirror is not None and not mirror.is_dir():
        raise FetchError(f"mirror folder not found: {mirror}")
    requests = spec.plan(settings, mirror)
    if not requests:
        where = f" in mirror {mirror}" if mirror is not None else ""
        raise FetchError(f"{spec.source_id}: nothing to retrieve{where} (the plan is empty)")

    started_at = landing.utc_now()
    with landing.staging(settings, spec.source_id) as stage:
        if mirror is not None:
            files = _retrieve_plan(requests, _mirror_getter(mirror, stage, spec, settings))
        else:
            files = _download_all(requests, spec, settings, stage, conditional=vintage is None)
        _check_unique_names(spec, files)
        return landing.commit(
            settings,
            spec.source_id,
            stage,
            files,
            mode="mirror" if mirror is not None else "live",
            mirror=mirror,
            started_at=started_at,
            vintage=vintage,
        )


def land_files(spec: SourceSpec, settings, files: Mapping[str, Path], vintage: str) -> Landing:
    """Land local files as a new raw vintage under the given raw names (raw name -> path).

    For backfills of copies that did not come from a mirror folder laid out like the plan (e.g. registry
    snapshots renamed by date): each file is hashed and sniffed like a mirror copy; the manifest's `url`
    is the file's `file://` URI and its mode is "mirror".
    """
    landing.check_vintage_label(vintage)
    if not files:
        raise PipelineError(f"{spec.source_id}: no files to land for vintage {vintage}")
    for name in files:
        _check_raw_name(name, f"{spec.source_id}: raw name {name!r}")
    paths = [Path(p).resolve() for p in files.values()]
    started_at = landing.utc_now()
    with landing.staging(settings, spec.source_id) as stage:
        records = [
            _copy_file(path, path.as_uri(), name, stage, spec, settings)
            for name, path in zip(files, paths, strict=True)
        ]
        return landing.commit(
            settings,
            spec.source_id,
            stage,
            records,
            mode="mirror",
            mirror=Path(os.path.commonpath([p.parent for p in paths])),
            started_at=started_at,
            vintage=vintage,
        )


def mirror_vintages(mirror: Path, spec: SourceSpec, settings) -> list[tuple[Path, str | None]]:
    """A mirror is either DIR/<file name> (one retrieval) or DIR/<vintage>/<file name> (dated copies,
    loaded oldest first with their folder names as vintage ids: a backfill).

    A folder qualifies when the plan evaluated for it finds at least one of its files there (for a split
    file: its part 00; or its fallback), so configured countries and API windows decide, not the URL list.
    A mirror of several sources (like data/samples) holds each in DIR/<source_id>/, which is then used.
    """
    mirror = Path(mirror)
    if (mirror / spec.source_id).is_dir():
        mirror = mirror / spec.source_id
    if _holds_planned_file(mirror, spec, settings):
        return [(mirror, None)]
    dated = []
    if mirror.is_dir():
        folders = (p for p in mirror.iterdir() if p.is_dir() and not p.name.startswith("."))
        dated = sorted((p for p in folders if _holds_planned_file(p, spec, settings)), key=lambda p: p.name)
    if not dated:
        raise PipelineError(
            f"mirror {mirror} holds no file of the {spec.source_id} plan "
            f"({', '.join(_planned_names(mirror, spec, settings)) or 'none planned'}), nor dated folders with one"
        )
    return [(p, p.name) for p in dated]


def file_name(url: str) -> str:
    """The file name a URL lands under (and is looked up by in a mirror): the last path segment."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    _check_raw_name(name, f"{url}: cannot derive a safe file name from this URL")
    return name


def _check_raw_name(name: str, message: str) -> None:
    if name in ("", ".", "..", landing.MANIFEST) or name.startswith(".") or "/" in name or "\\" in name:
        raise PipelineError(message)


# ---------------------------------------------------------------- plan


def target(request: Request, part: int | None = None) -> Target:
    """(url with query, raw file name) of a request, or of one part of a split request."""
    url, name = request.url, request.name
    if part is not None:
        url, name = url.format(part=part), name.format(part=part)
    name = name or file_name(url)
    _check_raw_name(name, f"{url}: unsafe raw file name {name!r} in the plan")
    if request.params:
        url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(request.params)}"
    return url, name


def _first_names(request: Request) -> list[str]:
    """Names whose presence shows that a folder holds this request's file: its (first part's) name,
    then its fallback's."""
    names = [target(request, 0 if request.parts else None)[1]]
    return names + (_first_names(request.fallback) if request.fallback else [])


def _planned_names(folder: Path, spec: SourceSpec, settings) -> list[str]:
    if not folder.is_dir():
        return []
    return [name for request in spec.plan(settings, folder) for name in _first_names(request)]


def _holds_planned_file(folder: Path, spec: SourceSpec, settings) -> bool:
    return any((folder / name).is_file() for name in _planned_names(folder, spec, settings))


def _retrieve_plan(requests: list[Request], get: Getter) -> list[dict]:
    files: list[dict] = []
    for request in requests:
        files.extend(_retrieve(request, get))
    return files


def _retrieve(request: Request, get: Getter) -> list[dict]:
    """The files of one request: its parts in order until the first missing one, or its single file;
    the fallback's when the (first) file is missing."""
    first = target(request, 0 if request.parts else None)
    missing_ok = request.parts or request.fallback is not None
    try:
        files = [get(first, missing_ok)]
    except _Missing as missing:
        if request.fallback is not None:
            log.info("%s: missing (%s); retrieving the fallback", first[0], missing)
            return _retrieve(request.fallback, get)
        raise FetchError(f"{missing.where}: {missing} (part 00 of a split file must exist)") from None
    if not request.parts:
        return files
    for part in range(1, MAX_PARTS):
        try:
            files.append(get(target(request, part), True))
        except _Missing:
            return files
    raise FetchError(f"{request.url}: more than {MAX_PARTS} parts (is every part answered with 200?)")


def _check_unique_names(spec: SourceSpec, files: list[dict]) -> None:
    names = [f["name"] for f in files]
    if len(set(names)) != len(names):
        raise PipelineError(f"{spec.source_id}: two planned files share a file name: {names}")


# ---------------------------------------------------------------- mirror


def _mirror_getter(mirror: Path, stage: Path, spec: SourceSpec, settings) -> Getter:
    def get(planned: Target, missing_ok: bool) -> dict:
        url, name = planned
        source = mirror / name
        if not source.is_file():
            if missing_ok:
                raise _Missing(str(source), "not found in mirror")
            raise FetchError(f"{source}: not found in mirror (expected the file of {url})")
        if (stage / name).exists():
            raise PipelineError(f"{spec.source_id}: two planned files share the file name {name}")
        return _copy_file(source, url, name, stage, spec, settings)

    return get


def _copy_file(source: Path, url: str, name: str, stage: Path, spec: SourceSpec, settings) -> dict:
    """Copy a local file into the stage as `name`, hashing and sniffing like a download."""
    retrieved_at = landing.utc_now()
    content_type = mimetypes.guess_type(source.name)[0]
    try:
        with open(source, "rb") as handle:
            stored = _store(_chunks(handle), stage / name, url, spec, settings, content_type, None)
    except FileNotFoundError:
        raise FetchError(f"{source}: file not found") from None
    except OSError as exc:
        raise FetchError(f"{source}: cannot copy into the raw zone: {_one_line(exc)}") from None
    return _record(url, name, retrieved_at, stored, None, None, None, content_type)


def _chunks(handle) -> Iterable[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk


# ---------------------------------------------------------------- live


def _download_all(
    requests: list[Request], spec: SourceSpec, settings, stage: Path, conditional: bool
) -> list[dict]:
    previous = _previous_files(settings, spec.source_id) if conditional else {}
    timeout = httpx.Timeout(settings.http_timeout_s)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:

        def get(planned: Target, missing_ok: bool) -> dict:
            if (stage / planned[1]).exists():
                raise PipelineError(f"{spec.source_id}: two planned files share the file name {planned[1]}")
            return _download(client, planned, stage, spec, settings, previous.get(planned[1]), missing_ok)

        return _retrieve_plan(requests, get)


def _previous_files(settings, source_id: str) -> dict[str, dict]:
    """file name -> file record of the newest vintage, for conditional GETs."""
    newest = landing.latest_vintage(settings, source_id)
    if newest is None:
        return {}
    manifest = landing.read_manifest(landing.vintage_dir(settings, source_id, newest))
    return {f["name"]: f for f in manifest.get("files", [])}


def _conditional_headers(previous: dict | None) -> dict[str, str]:
    if not previous:
        return {}
    headers = {}
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    return headers


def _download(
    client: httpx.Client, planned: Target, stage: Path, spec: SourceSpec, settings, previous, missing_ok: bool
) -> dict:
    """GET one file with retries; returns its manifest record (file streamed into the stage)."""
    url = planned[0]
    attempts = 1 + max(0, settings.http_retries)
    headers = _conditional_headers(previous)
    for attempt in range(attempts):
        try:
            return _attempt(client, planned, stage, spec, settings, headers, missing_ok)
        except _Retryable as failure:
            if attempt + 1 == attempts:
                raise FetchError(f"{url}: {failure} (gave up after {attempts} attempts)") from None
            delay = _delay(settings, attempt, failure.retry_after)
            log.warning("%s: %s; retry %d/%d in %.2f s", url, failure, attempt + 1, attempts - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _delay(settings, attempt: int, retry_after: float | None) -> float:
    backoff = settings.http_backoff_s * (2**attempt)
    if retry_after is None:
        return backoff
    cap = float(settings.extra.get("http_retry_after_cap_s", RETRY_AFTER_CAP_S))
    return max(backoff, min(retry_after, cap))


def _attempt(
    client: httpx.Client, planned: Target, stage: Path, spec: SourceSpec, settings, headers, missing_ok: bool
) -> dict:
    url, name = planned
    retrieved_at = landing.utc_now()
    try:
        with client.stream("GET", url, headers=headers) as response:
            _check_status(url, response, bool(headers), missing_ok)
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
            content_type = response.headers.get("Content-Type")
            if response.status_code == 304:
                return _record(url, name, retrieved_at, None, 304, etag, last_modified, content_type)
            expected = _content_length(url, response, settings.max_download_bytes)
            try:
                stored = _store(
                    response.iter_bytes(_CHUNK), stage / name, url, spec, settings, content_type, expected
                )
            except httpx.TimeoutException:
                raise
            except httpx.TransportError:
                received = response.num_bytes_downloaded
                if expected is not None and received < expected:
                    raise _Retryable(f"truncated transfer: received {received} of {expected} bytes") from None
                raise
            if expected is not None and response.num_bytes_downloaded != expected:
                got = response.num_bytes_downloaded
                raise _Retryable(f"truncated transfer: received {got} of {expected} bytes (Content-Length)")
            return _record(
                url, name, retrieved_at, stored, response.status_code, etag, last_modified, content_type
            )
    except httpx.TimeoutException:
        raise _Retryable(f"timed out (timeout {settings.http_timeout_s:g} s)") from None
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"{url}: {_one_line(exc)}") from None
    except httpx.TransportError as exc:
        raise _Retryable(f"connection failed: {_one_line(exc)}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # too many redirects, undecodable body, bad URL
        raise FetchError(f"{url}: {_one_line(exc)}") from None
    except OSError as exc:  # the network errors above are not OSError: this is the local disk
        raise FetchError(f"{url}: cannot write to the raw zone: {_one_line(exc)}") from None


def _check_status(url: str, response: httpx.Response, conditional: bool, missing_ok: bool = False) -> None:
    status = response.status_code
    if status == 304 and conditional:
        return
    if status in MISSING_STATUSES and missing_ok:
        raise _Missing(url, f"HTTP {status} {response.reason_phrase}".strip())
    if status == 429 or status >= 500:
        raise _Retryable(f"HTTP {status} {response.reason_phrase}".strip(), _retry_after(response))
    if status != 200:
        raise FetchError(f"{url}: HTTP {status} {response.reason_phrase}".strip())


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _content_length(url: str, response: httpx.Response, cap: int) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        raise FetchError(f"{url}: invalid Content-Length {value!r}") from None
    if length > cap:
        raise FetchError(f"{url}: Content-Length {length} bytes exceeds the size cap of {cap} bytes")
    return length


# ---------------------------------------------------------------- shared


def _store(
    chunks: Iterable[bytes],
    path: Path,
    url: str,
    spec: SourceSpec,
    settings,
    content_type: str | None,
    expected: int | None,
) -> tuple[str, int]:
    """Stream chunks to `path` (via a .part file), enforcing the size cap and sniffing the first bytes.

    Returns (sha256, size). The .part file is truncated on every attempt and renamed only when complete.
    """
    cap = settings.max_download_bytes
    part = path.with_name(path.name + ".part")
    digest, size, head, sniffed = hashlib.sha256(), 0, b"", False
    try:
        with open(part, "wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > cap:
                    raise FetchError(f"{url}: body exceeds the size cap of {cap} bytes")
                if not sniffed:
                    head += chunk[: SNIFF_BYTES - len(head)]
                    if len(head) >= SNIFF_BYTES:
                        sniff(url, head, spec.content_types, content_type)
                        sniffed = True
                digest.update(chunk)
                handle.write(chunk)
            if not sniffed and (expected is None or size >= expected):
                sniff(url, head, spec.content_types, content_type)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def _looks_like_html(head: bytes, content_type: str | None) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html")) or "html" in (content_type or "").lower()


def _is_text(head: bytes, content_type: str | None) -> bool:
    return b"\x00" not in head and not _looks_like_html(head, content_type)


_SNIFFERS = {
    "zip": lambda head, ctype: head.startswith(_ZIP_MAGIC),
    "xlsx": lambda head, ctype: head.startswith(_ZIP_MAGIC),
    "csv": _is_text,
    "json": lambda head, ctype: head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["),
}


def sniff(url: str, head: bytes, content_types: tuple[str, ...], content_type: str | None = None) -> None:
    """Refuse a body that is none of the accepted kinds (checked on its first bytes, not on headers)."""
    if not content_types:
        return
    unknown = [kind for kind in content_types if kind not in _SNIFFERS]
    if unknown:
        raise PipelineError(f"{url}: unknown content type(s) {unknown} (known: {sorted(_SNIFFERS)})")
    if any(_SNIFFERS[kind](head, content_type) for kind in content_types):
        return
    wanted = " or ".join(content_types)
    if not head:
        raise FetchError(f"{url}: expected a {wanted}, got an empty body")
    shown = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:SHOWN_CHARS].decode("utf-8", "replace")
    got = "HTML" if _looks_like_html(head, content_type) else (content_type or "something else")
    raise FetchError(f"{url}: expected a {wanted}, got {got} (starts with {shown!r})")


def _record(url, name, retrieved_at, stored, status, etag, last_modified, content_type) -> dict:
    sha256, size = stored if stored else (None, None)
    return {
        "name": name,
        "url": url,
        "retrieved_at": landing.iso(retrieved_at),
        "bytes": size,
        "sha256": sha256,
        "http_status": status,
        "etag": etag,
        "last_modified": last_modified,
        "content_type": content_type,
    }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
