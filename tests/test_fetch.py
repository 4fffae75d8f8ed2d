"""Retrieval and the raw landing zone, over real HTTP against a scripted server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines import landing
from pipelines.errors import FetchError, PipelineError
from pipelines.fetch import fetch_source
from pipelines.registry import SourceSpec, get_source
from tests.conftest import GOOGLE_REAL_VINTAGES
from tests.http_fixtures import Reply, ScriptedServer

pytestmark = pytest.mark.timeout(30)

FILE = "google-government-removals.zip"
PATH = f"/{FILE}"
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Service unavailable</body></html>"


def make_zip(text: str = "Period Ending,Total\n2025-06-30,75\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("google-government-removals/detailed-removal-requests.csv", text)
    return buffer.getvalue()


ZIP_A = make_zip()
ZIP_B = make_zip("Period Ending,Total\n2025-06-30,76\n")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def spec(server):
    """The google_removals spec with its URL pointed at the local server."""
    real = get_source("google_removals")
    return SourceSpec(
        source_id=real.source_id,
        title=real.title,
        urls=(server.url(PATH),),
        datasets=real.datasets,
        schedule=real.schedule,
        content_types=real.content_types,
    )


@pytest.fixture
def fast(settings):
    """Short timeout for the timeout tests (back-off is already 0.01 s in the shared fixture)."""
    return settings.with_(http_timeout_s=0.5)


def source_entries(settings) -> list[str]:
    """Every entry under raw/<source_id>, temp folders included."""
    folder = settings.raw_dir / "google_removals"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def fetch_error(spec, settings, **kwargs) -> str:
    with pytest.raises(FetchError) as caught:
        fetch_source(spec, settings, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- live: success and retries


def test_live_fetch_lands_bytes_and_manifest_with_sha256(server, spec, settings):
    server.script(
        Reply(
            body=ZIP_A,
            etag='"v1"',
            last_modified="Wed, 26 Nov 2025 10:00:00 GMT",
            headers={"Content-Type": "application/zip"},
        )
    )
    result = fetch_source(spec, settings, live=True)

    assert result.changed
    assert result.raw_dir == settings.raw_dir / "google_removals" / result.vintage
    assert (result.raw_dir / FILE).read_bytes() == ZIP_A
    manifest = json.loads((result.raw_dir / "manifest.json").read_text())
    assert manifest == result.manifest
    assert (manifest["source_id"], manifest["vintage"], manifest["mode"], manifest["mirror"]) == (
        "google_removals",
        result.vintage,
        "live",
        None,
    )
    [entry] = manifest["files"]
    assert entry["url"] == server.url(PATH)
    assert entry["sha256"] == sha(ZIP_A)
    assert entry["bytes"] == len(ZIP_A)
    assert entry["http_status"] == 200
    assert entry["etag"] == '"v1"'
    assert entry["last_modified"] == "Wed, 26 Nov 2025 10:00:00 GMT"
    assert entry["content_type"] == "application/zip"
    assert datetime.fromisoformat(entry["retrieved_at"]).tzinfo is not None
    assert datetime.strptime(result.vintage, landing.VINTAGE_FORMAT)  # YYYY-MM-DDTHHMMSSZ
    assert source_entries(settings) == [result.vintage]


def test_http_500_is_retried_then_lands(server, spec, settings):
    server.script(Reply(status=500, body=b"oops"), Reply(status=503), Reply(body=ZIP_A))
    result = fetch_source(spec, settings, live=True)
    assert len(server.requests) == 3
    assert (result.raw_dir / FILE).read_bytes() == ZIP_A


def test_timeout_is_retried_then_lands(server, spec, fast):
    server.script(Reply(body=ZIP_A, delay_s=1.5), Reply(body=ZIP_A))
    result = fetch_source(spec, fast, live=True)
    assert len(server.requests) == 2
    assert (result.raw_dir / FILE).read_bytes() == ZIP_A


def test_timeouts_on_every_attempt_fail_with_fetch_error(server, spec, fast):
    server.script(Reply(body=ZIP_A, delay_s=3))
    message = fetch_error(spec, fast.with_(http_retries=1), live=True)
    assert message == f"{server.url(PATH)}: timed out (timeout 0.5 s) (gave up after 2 attempts)"
    assert len(server.requests) == 2
    assert source_entries(fast) == []


def test_http_500_on_every_attempt_fails_after_all_retries(server, spec, settings):
    server.script(Reply(status=500))
    message = fetch_error(spec, settings.with_(http_retries=2), live=True)
    assert message == f"{server.url(PATH)}: HTTP 500 Internal Server Error (gave up after 3 attempts)"
    assert len(server.requests) == 3


def test_429_waits_for_retry_after_then_lands(server, spec, settings):
    server.script(Reply(status=429, headers={"Retry-After": "1"}), Reply(body=ZIP_A))
    result = fetch_source(spec, settings, live=True)
    first, second = server.requests
    assert second.at - first.at >= 0.9  # the back-off alone would be 0.01 s
    assert result.changed


def test_retry_after_longer_than_the_cap_waits_only_the_cap(server, spec, settings):
    server.script(Reply(status=429, headers={"Retry-After": "3600"}), Reply(body=ZIP_A))
    result = fetch_source(spec, settings.with_(extra={"http_retry_after_cap_s": 0.2}), live=True)
    first, second = server.requests
    assert 0.15 <= second.at - first.at < 2
    assert result.changed


def test_404_fails_at_once(server, spec, settings):
    server.script(Reply(status=404, body=b"not here"))
    message = fetch_error(spec, settings, live=True)
    assert message == f"{server.url(PATH)}: HTTP 404 Not Found"
    assert len(server.requests) == 1


# ---------------------------------------------------------------- live: bad bodies


def test_html_error_page_instead_of_zip_is_refused(server, spec, settings):
    server.script(Reply(body=HTML_PAGE, headers={"Content-Type": "text/html; charset=utf-8"}))
    message = fetch_error(spec, settings, live=True)
    assert message == f"{server.url(PATH)}: expected a zip, got HTML (starts with '<!DOCTYPE html')"
    assert len(server.requests) == 1  # a wrong body is not retried


def test_content_length_larger_than_body_is_a_truncated_transfer(server, spec, settings):
    server.script(Reply(body=ZIP_A, content_length=len(ZIP_A) + 1000))
    message = fetch_error(spec, settings.with_(http_retries=1), live=True)
    assert message.startswith(f"{server.url(PATH)}: truncated transfer: received {len(ZIP_A)} of ")
    assert "gave up after 2 attempts" in message


def test_body_past_the_size_cap_is_refused_while_streaming(server, spec, settings):
    server.script(Reply(body=ZIP_A + b"\0" * 5000, omit_content_length=True))
    message = fetch_error(spec, settings.with_(max_download_bytes=len(ZIP_A)), live=True)
    assert message == f"{server.url(PATH)}: body exceeds the size cap of {len(ZIP_A)} bytes"
    assert len(server.requests) == 1


def test_content_length_above_the_size_cap_is_refused_up_front(server, spec, settings):
    server.script(Reply(body=ZIP_A))
    message = fetch_error(spec, settings.with_(max_download_bytes=100), live=True)
    assert (
        message == f"{server.url(PATH)}: Content-Length {len(ZIP_A)} bytes exceeds the size cap of 100 bytes"
    )
    assert len(server.requests) == 1


def test_failed_fetch_leaves_no_vintage_and_no_temp_files(server, spec, settings):
    server.script(Reply(body=ZIP_A))
    first = fetch_source(spec, settings, live=True)
    server.script(Reply(body=ZIP_B, content_length=len(ZIP_B) + 10))
    fetch_error(spec, settings.with_(http_retries=1), live=True)
    assert source_entries(settings) == [first.vintage]
    assert sorted(p.name for p in first.raw_dir.iterdir()) == [FILE, "manifest.json"]


# ---------------------------------------------------------------- unchanged upstream


def test_unchanged_upstream_creates_no_new_vintage(server, spec, settings):
    server.script(Reply(body=ZIP_A))  # no ETag: the bytes are downloaded again and compared by sha256
    first = fetch_source(spec, settings, live=True)
    again = fetch_source(spec, settings, live=True)
    assert not again.changed
    assert again.vintage == first.vintage
    assert again.manifest == first.manifest
    assert source_entries(settings) == [first.vintage]


def test_changed_upstream_lands_a_new_vintage(server, spec, settings):
    server.script(Reply(body=ZIP_A))
    first = fetch_source(spec, settings, live=True)
    server.script(Reply(body=ZIP_B))
    second = fetch_source(spec, settings, live=True, vintage="2099-01")
    assert second.changed
    assert landing.latest_vintage(settings, "google_removals") == "2099-01"
    assert [m["vintage"] for m in landing.list_vintages(settings, "google_removals")] == [
        first.vintage,
        "2099-01",
    ]
    assert (first.raw_dir / FILE).read_bytes() == ZIP_A  # the earlier vintage is untouched


def test_304_via_etag_creates_no_new_vintage(server, spec, settings):
    server.script(Reply(body=ZIP_A, etag='"abc"'))
    first = fetch_source(spec, settings, live=True)
    again = fetch_source(spec, settings, live=True)
    assert server.requests[1].headers.get("If-None-Match") == '"abc"'
    assert not again.changed
    assert again.vintage == first.vintage
    assert source_entries(settings) == [first.vintage]


def test_conditional_get_sends_if_modified_since_from_the_manifest(server, spec, settings):
    stamp = "Wed, 26 Nov 2025 10:00:00 GMT"
    server.script(Reply(body=ZIP_A, last_modified=stamp))
    first = fetch_source(spec, settings, live=True)
    again = fetch_source(spec, settings, live=True)
    assert server.requests[1].headers.get("If-Modified-Since") == stamp
    assert (again.changed, again.vintage) == (False, first.vintage)


# ---------------------------------------------------------------- mirror mode and vintages


def test_mirror_file_present_lands_with_null_http_status(spec, settings, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / FILE).write_bytes(ZIP_A)
    result = fetch_source(spec, settings, mirror=mirror, vintage="2023-03")
    assert (result.changed, result.vintage) == (True, "2023-03")
    assert (result.raw_dir / FILE).read_bytes() == ZIP_A
    assert (result.manifest["mode"], result.manifest["mirror"]) == ("mirror", str(mirror.resolve()))
    [entry] = result.manifest["files"]
    assert (entry["http_status"], entry["etag"], entry["sha256"]) == (None, None, sha(ZIP_A))


def test_mirror_file_missing_names_the_path(spec, settings, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    message = fetch_error(spec, settings, mirror=mirror)
    assert message.startswith(f"{mirror / FILE}: not found in mirror")
    assert source_entries(settings) == []


def test_mirror_html_file_is_refused(spec, settings, tmp_path):
    (tmp_path / FILE).write_bytes(HTML_PAGE)
    message = fetch_error(spec, settings, mirror=tmp_path)
    assert message.endswith("expected a zip, got HTML (starts with '<!DOCTYPE html')")


def test_neither_mirror_nor_live_is_refused(spec, settings):
    with pytest.raises(PipelineError, match="^choose --mirror DIR or --live$"):
        fetch_source(spec, settings)


def test_explicit_vintage_relanded_with_same_content_is_unchanged(spec, settings, tmp_path):
    (tmp_path / FILE).write_bytes(ZIP_A)
    first = fetch_source(spec, settings, mirror=tmp_path, vintage="2023-03")
    again = fetch_source(spec, settings, mirror=tmp_path, vintage="2023-03")
    assert (again.changed, again.vintage, again.manifest) == (False, "2023-03", first.manifest)


def test_explicit_vintage_relanded_with_other_content_fails(spec, settings, tmp_path):
    (tmp_path / FILE).write_bytes(ZIP_A)
    fetch_source(spec, settings, mirror=tmp_path, vintage="2023-03")
    (tmp_path / FILE).write_bytes(ZIP_B)
    message = fetch_error(spec, settings, mirror=tmp_path, vintage="2023-03")
    assert message.startswith("raw vintage google_removals/2023-03 already exists with different content")
    assert (settings.raw_dir / "google_removals" / "2023-03" / FILE).read_bytes() == ZIP_A
    assert source_entries(settings) == ["2023-03"]


def test_timestamp_collision_appends_a_suffix(settings, tmp_path):
    moment = datetime(2026, 11, 26, 19, 58, 0, tzinfo=UTC)
    vintages = []
    for body in (b"one", b"two", b"three"):
        with landing.staging(settings, "google_removals") as stage:
            (stage / "f.bin").write_bytes(body)
            record = {"name": "f.bin", "url": "http://x/f.bin", "sha256": sha(body), "bytes": len(body)}
            result = landing.commit(
                settings, "google_removals", stage, [record], mode="live", mirror=None, started_at=moment
            )
            vintages.append(result.vintage)
    assert vintages == ["2026-11-26T195800Z", "2026-11-26T195800Z-2", "2026-11-26T195800Z-3"]
    assert source_entries(settings) == sorted(vintages)


def test_vintage_order_puts_backfill_labels_before_timestamps_and_suffixes_numerically():
    ids = [
        "2026-11-26T195800Z-10",
        "2026-03",
        "2026-11-26T195800Z",
        "2023-03",
        "2026-11-26T195800Z-2",
        "2025-12",
    ]
    assert sorted(ids, key=landing.vintage_sort_key) == [
        "2023-03",
        "2025-12",
        "2026-03",
        "2026-11-26T195800Z",
        "2026-11-26T195800Z-2",
        "2026-11-26T195800Z-10",
    ]


def test_invalid_vintage_label_is_refused(spec, settings, tmp_path):
    with pytest.raises(PipelineError, match="invalid vintage '../x'"):
        fetch_source(spec, settings, mirror=tmp_path, vintage="../x")


# ---------------------------------------------------------------- real upstream files


@pytest.mark.real
def test_real_vintages_backfill_from_mirrors_in_order(spec, settings, real_google):
    for label in GOOGLE_REAL_VINTAGES:
        result = fetch_source(spec, settings, mirror=real_google / label, vintage=label)
        original = (real_google / label / FILE).read_bytes()
        assert result.changed
        assert result.manifest["files"][0]["sha256"] == sha(original)
        assert (result.raw_dir / FILE).read_bytes() == original
    assert [m["vintage"] for m in landing.list_vintages(settings, "google_removals")] == list(
        GOOGLE_REAL_VINTAGES
    )
    assert landing.latest_vintage(settings, "google_removals") == "2026-03"


@pytest.mark.real
def test_real_zip_served_over_http_lands_byte_for_byte(server, spec, settings, real_google):
    original = (real_google / "2026-03" / FILE).read_bytes()
    server.script(Reply(body=original, headers={"Content-Type": "application/zip"}))
    result = fetch_source(spec, settings, live=True)
    assert (result.raw_dir / FILE).read_bytes() == original
    assert result.manifest["files"][0]["sha256"] == sha(original)
    assert zipfile.ZipFile(result.raw_dir / FILE).testzip() is None


def test_landed_manifest_is_readable_by_path(spec, settings, tmp_path):
    (tmp_path / FILE).write_bytes(ZIP_A)
    result = fetch_source(spec, settings, mirror=tmp_path)
    assert landing.read_manifest(Path(result.raw_dir)) == result.manifest
    with pytest.raises(PipelineError, match="no manifest.json"):
        landing.read_manifest(tmp_path)


def test_partial_304_reuses_the_unchanged_file_in_the_new_vintage(server, spec, settings):
    other = "/other.zip"
    two_files = SourceSpec(**{**spec.__dict__, "urls": (server.url(PATH), server.url(other))})
    server.script(Reply(body=ZIP_A, etag='"a"'), Reply(body=ZIP_A, etag='"b"'))
    first = fetch_source(two_files, settings, live=True)
    server.script(Reply(body=ZIP_A, etag='"a"'), Reply(body=ZIP_B, etag='"b2"'))  # first file answers 304
    second = fetch_source(two_files, settings, live=True)
    assert server.requests[0].headers.get("If-None-Match") == '"a"'
    assert second.changed and second.vintage != first.vintage
    assert (second.raw_dir / FILE).read_bytes() == ZIP_A
    assert (second.raw_dir / "other.zip").read_bytes() == ZIP_B
    statuses = [(f["name"], f["http_status"], f["sha256"]) for f in second.manifest["files"]]
    assert statuses == [(FILE, 304, sha(ZIP_A)), ("other.zip", 200, sha(ZIP_B))]
