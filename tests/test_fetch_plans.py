"""Retrieval through the sources' plans (split registry dumps, configured test lists, OONI windows), over
real HTTP against a scripted server on 127.0.0.1 and from mirror folders."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from pipelines import lake, landing
from pipelines.errors import FetchError, ParseError, PipelineError
from pipelines.fetch import fetch_source, land_files, mirror_vintages
from pipelines.registry import Request, SourceSpec, get_source
from pipelines.run import ingest_source
from pipelines.settings import load_settings
from pipelines.sources.ooni_aggregates.parse import parse_vintage as parse_ooni
from pipelines.sources.ooni_aggregates.plan import last_loaded_day
from pipelines.sources.ooni_aggregates.schema import SCHEMAS
from tests.conftest import SAMPLES_DIR
from tests.http_fixtures import Reply, ScriptedServer

pytestmark = pytest.mark.timeout(60)

D = dt.date
RUN_DATE = D(2025, 7, 2)
OONI_PATH = "/api/v1/aggregation"
LEGEND = "00-LEGEND-new_category_codes.csv"
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Rate limited</body></html>"


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def settings(tmp_path):
    """Small HTTP settings and a fixed run date."""
    return load_settings(
        tmp_path / "data", http_backoff_s=0.01, http_retries=3, http_timeout_s=5.0, today=RUN_DATE
    )


def pointed(source_id: str, *urls: str) -> SourceSpec:
    return dataclasses.replace(get_source(source_id), urls=urls)


def paths(server) -> list[str]:
    return [urlsplit(r.path).path for r in server.requests]


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def landed_names(result) -> list[str]:
    return [f["name"] for f in result.manifest["files"]]


def lake_entries(settings, source_id: str) -> list[str]:
    base = settings.lake_dir / source_id
    return sorted(str(p.relative_to(base)) for p in base.rglob("*.parquet")) if base.exists() else []


# ---------------------------------------------------------------- rkn_registry: split dumps


def rkn_spec(server) -> SourceSpec:
    return pointed("rkn_registry", server.url("/z-i/dump.csv"))


def test_rkn_split_parts_are_retrieved_in_order_until_the_first_404(server, settings):
    parts = [
        b"Updated: 2025-06-14 10:00:00 +0000\n1.2.3.4;a.example;;x;1;2025-01-01\n",
        b"part one\n",
        b"two\n",
    ]
    server.script(*(Reply(body=body) for body in parts), Reply(status=404))
    result = fetch_source(rkn_spec(server), settings, live=True)
    assert paths(server) == ["/z-i/dump-00.csv", "/z-i/dump-01.csv", "/z-i/dump-02.csv", "/z-i/dump-03.csv"]
    assert landed_names(result) == ["dump-00.csv", "dump-01.csv", "dump-02.csv"]
    assert [(result.raw_dir / n).read_bytes() for n in landed_names(result)] == parts


def test_rkn_falls_back_to_dump_csv_when_part_00_is_404(server, settings):
    body = b"Updated: 2013-01-05 10:00:00 +0000\n1.2.3.4;a.example;;x;1;2013-01-01\n"
    server.script(Reply(status=404), Reply(body=body))
    result = fetch_source(rkn_spec(server), settings, live=True)
    assert paths(server) == ["/z-i/dump-00.csv", "/z-i/dump.csv"]
    assert landed_names(result) == ["dump.csv"]
    assert (result.raw_dir / "dump.csv").read_bytes() == body


def test_rkn_without_parts_nor_dump_csv_is_one_line(server, settings):
    server.script(Reply(status=404))
    with pytest.raises(FetchError) as error:
        fetch_source(rkn_spec(server), settings, live=True)
    assert one_line(error) == f"{server.url('/z-i/dump.csv')}: HTTP 404 Not Found"
    assert landing.latest_vintage(settings, "rkn_registry") is None


def test_rkn_part_answered_500_forever_fails_instead_of_ending_the_parts(server, settings):
    server.script(Reply(body=b"Updated: 2025-06-14 10:00:00 +0000\n"), Reply(status=500))
    with pytest.raises(FetchError, match=r"dump-01.csv: HTTP 500 .*gave up after 4 attempts"):
        fetch_source(rkn_spec(server), settings, live=True)
    assert landing.latest_vintage(settings, "rkn_registry") is None


def test_rkn_mirror_with_parts_and_with_dump_csv(settings, tmp_path):
    split, single = tmp_path / "split", tmp_path / "single"
    split.mkdir()
    single.mkdir()
    for name in ("dump-00.csv", "dump-01.csv", "dump.csv"):  # parts win over a stale dump.csv
        (split / name).write_bytes(name.encode() + b"\n")
    (single / "dump.csv").write_bytes(b"Updated: 2013-01-05 10:00:00 +0000\n")
    spec = get_source("rkn_registry")
    assert landed_names(fetch_source(spec, settings, mirror=split, vintage="a")) == [
        "dump-00.csv",
        "dump-01.csv",
    ]
    assert landed_names(fetch_source(spec, settings, mirror=single, vintage="b")) == ["dump.csv"]


def test_rkn_mirror_vintages_find_dated_folders_of_either_form(settings, tmp_path):
    for folder, name in (("2025-04-05", "dump.csv"), ("2025-06-14", "dump-00.csv"), ("notes", "README.md")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text("x\n")
    found = mirror_vintages(tmp_path, get_source("rkn_registry"), settings)
    assert found == [(tmp_path / "2025-04-05", "2025-04-05"), (tmp_path / "2025-06-14", "2025-06-14")]


@dataclasses.dataclass(frozen=True)
class PlannedSpec(SourceSpec):
    """A spec whose plan is given (for plan shapes no registered source has)."""

    requests: tuple[Request, ...] = ()

    def plan(self, settings, mirror=None) -> list[Request]:
        return list(self.requests)


def planned(*requests: Request) -> PlannedSpec:
    return PlannedSpec(**vars(get_source("rkn_registry")), requests=requests)


def test_split_file_without_fallback_and_without_part_00_is_one_line(server, settings, tmp_path):
    spec = planned(Request(server.url("/d/dump-{part:02d}.csv"), parts=True))
    server.script(Reply(status=410))
    with pytest.raises(FetchError) as error:
        fetch_source(spec, settings, live=True)
    assert one_line(error) == (
        f"{server.url('/d/dump-00.csv')}: HTTP 410 Gone (part 00 of a split file must exist)"
    )
    with pytest.raises(FetchError) as error:
        fetch_source(spec, settings, mirror=tmp_path)
    assert (
        one_line(error)
        == f"{tmp_path / 'dump-00.csv'}: not found in mirror (part 00 of a split file must exist)"
    )


def test_two_planned_files_with_one_name_are_refused(settings, tmp_path):
    (tmp_path / "dump.csv").write_text("x\n")
    spec = planned(Request("https://a.example/dump.csv"), Request("https://b.example/dump.csv"))
    with pytest.raises(PipelineError, match="two planned files share the file name dump.csv"):
        fetch_source(spec, settings, mirror=tmp_path)


# ---------------------------------------------------------------- citizenlab_testlists


def citizenlab_spec(server) -> SourceSpec:
    base = server.url("/lists")
    return pointed("citizenlab_testlists", f"{base}/{LEGEND}", base + "/{country}.csv", f"{base}/global.csv")


def test_citizenlab_retrieves_the_legend_each_configured_country_and_global(server, settings):
    server.script(*(Reply(body=f"body of file {i}\n".encode()) for i in range(4)))
    result = fetch_source(citizenlab_spec(server), settings.with_(testlist_countries=("KZ", "RU")), live=True)
    expected = [LEGEND, "kz.csv", "ru.csv", "global.csv"]
    assert paths(server) == [f"/lists/{name}" for name in expected]
    assert landed_names(result) == expected


def test_citizenlab_missing_country_list_fails_at_once(server, settings):
    server.script(Reply(body=b"legend\n"), Reply(status=404))
    with pytest.raises(FetchError) as error:
        fetch_source(citizenlab_spec(server), settings.with_(testlist_countries=("XX",)), live=True)
    assert one_line(error) == f"{server.url('/lists/xx.csv')}: HTTP 404 Not Found"
    assert len(server.requests) == 2


def test_citizenlab_samples_are_found_through_the_plan(settings):
    folder = SAMPLES_DIR / "citizenlab_testlists"
    assert mirror_vintages(folder, get_source("citizenlab_testlists"), settings) == [
        (folder / "2026-06", "2026-06")
    ]


# ---------------------------------------------------------------- ooni_aggregates: requests and windows


def ooni_body(*days: dt.date, domain: str = "opposition-kz.example") -> bytes:
    result = [
        {
            "anomaly_count": 3,
            "confirmed_count": 1,
            "domain": domain,
            "failure_count": 0,
            "measurement_count": 10,
            "measurement_start_day": day.isoformat(),
            "ok_count": 7,
        }
        for day in days
    ]
    return json.dumps({"db_stats": {}, "dimension_count": 2, "result": result, "v": 0}).encode()


def ooni_spec(server) -> SourceSpec:
    return pointed("ooni_aggregates", server.url(OONI_PATH))


def query(request) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(request.path).query, strict_parsing=True))


def expected_query(cc: str, since: dt.date, until: dt.date) -> dict[str, str]:
    return {
        "probe_cc": cc,
        "test_name": "web_connectivity",
        "since": since.isoformat(),
        "until": until.isoformat(),
        "axis_x": "measurement_start_day",
        "axis_y": "domain",
        "format": "JSON",
    }


def test_ooni_first_run_sends_the_documented_query_and_lands_the_named_response(server, settings):
    server.script(Reply(body=ooni_body(D(2025, 6, 30), D(2025, 7, 2))))
    result = fetch_source(ooni_spec(server), settings, live=True)
    [request] = server.requests
    assert urlsplit(request.path).path == OONI_PATH
    assert query(request) == expected_query(
        "KZ", D(2025, 6, 30), D(2025, 7, 3)
    )  # the last 3 days, until exclusive
    assert landed_names(result) == ["aggregation_KZ_2025-06-30_2025-07-03.json"]
    [record] = result.manifest["files"]
    assert record["url"] == server.url(request.path)


def test_ooni_refetch_window_starts_two_days_before_the_last_loaded_day(server, settings):
    for parsed in parse_ooni(
        SAMPLES_DIR / "ooni_aggregates" / "2025-06-30", "2025-06-30"
    ):  # days up to 06-30
        target = (
            lake.partition_dir(settings.lake_dir, "ooni_aggregates", parsed.dataset, "2025-06-30") / lake.PART
        )
        lake.write_batches(target, SCHEMAS[parsed.dataset], parsed.batches)
    assert last_loaded_day(settings, "KZ") == D(2025, 6, 30)
    assert last_loaded_day(settings, "RU") is None

    server.script(Reply(body=ooni_body(D(2025, 6, 28))), Reply(body=ooni_body(D(2025, 7, 1))))
    result = fetch_source(ooni_spec(server), settings.with_(ooni_countries=("KZ", "RU")), live=True)
    assert [query(r) for r in server.requests] == [
        expected_query("KZ", D(2025, 6, 28), D(2025, 7, 3)),  # D - 2 .. run date + 1
        expected_query("RU", D(2025, 6, 30), D(2025, 7, 3)),  # nothing loaded for RU: the last 3 days
    ]
    assert landed_names(result) == [
        "aggregation_KZ_2025-06-28_2025-07-03.json",
        "aggregation_RU_2025-06-30_2025-07-03.json",
    ]


def test_ooni_long_first_window_is_split_into_requests_of_at_most_31_days(server, settings):
    server.script(Reply(body=ooni_body()))
    result = fetch_source(ooni_spec(server), settings.with_(ooni_since=D(2025, 5, 1)), live=True)
    windows = [(query(r)["since"], query(r)["until"]) for r in server.requests]
    assert windows == [
        ("2025-05-01", "2025-06-01"),
        ("2025-06-01", "2025-07-02"),
        ("2025-07-02", "2025-07-03"),
    ]
    assert len(landed_names(result)) == 3


def test_ooni_conditional_get_is_keyed_by_file_name_not_by_the_shared_url(server, settings):
    two = settings.with_(ooni_countries=("KZ", "RU"))
    server.script(
        Reply(body=ooni_body(D(2025, 7, 1)), etag='"kz-1"'),
        Reply(body=ooni_body(D(2025, 7, 2)), etag='"ru-1"'),
    )
    first = fetch_source(ooni_spec(server), two, live=True)
    server.script(
        Reply(body=ooni_body(D(2025, 7, 1)), etag='"kz-1"'),
        Reply(body=ooni_body(D(2025, 7, 1), D(2025, 7, 2)), etag='"ru-2"'),
    )
    second = fetch_source(ooni_spec(server), two, live=True)
    assert [r.headers.get("If-None-Match") for r in server.requests] == ['"kz-1"', '"ru-1"']
    statuses = [(f["name"][:15], f["http_status"]) for f in second.manifest["files"]]
    assert statuses == [("aggregation_KZ_", 304), ("aggregation_RU_", 200)]
    kz = "aggregation_KZ_2025-06-30_2025-07-03.json"
    assert (second.raw_dir / kz).read_bytes() == (first.raw_dir / kz).read_bytes()


# ---------------------------------------------------------------- ooni_aggregates: a misbehaving API


def ingest_error(server, settings, error_type) -> str:
    with pytest.raises(error_type) as error:
        ingest_source(ooni_spec(server), settings, live=True)
    return one_line(error)


def test_ooni_429_then_500_then_html_retries_and_ends_in_one_line_with_nothing_in_the_lake(server, settings):
    server.script(
        Reply(status=429, headers={"Retry-After": "1"}),
        Reply(status=500, body=b"Internal Server Error"),
        Reply(body=HTML_PAGE, headers={"Content-Type": "text/html; charset=utf-8"}),
    )
    message = ingest_error(server, settings, FetchError)
    assert len(server.requests) == 3
    first, second, third = (r.at for r in server.requests)
    assert second - first >= 0.9  # Retry-After: 1, where the back-off alone would wait 0.01 s
    assert third - second < 0.5  # after the 500: the back-off (0.02 s), no Retry-After
    url = server.url(server.requests[0].path)
    assert message == f"{url}: expected a json, got HTML (starts with '<!DOCTYPE html')"
    assert landing.latest_vintage(settings, "ooni_aggregates") is None
    assert lake_entries(settings, "ooni_aggregates") == []


def test_ooni_429_then_500_then_json_of_the_wrong_shape_ends_in_one_parse_error(server, settings):
    server.script(
        Reply(status=429, headers={"Retry-After": "1"}),
        Reply(status=502),
        Reply(body=b'{"v": 0, "results": [], "dimension_count": 2}'),
    )
    message = ingest_error(server, settings, ParseError)
    assert len(server.requests) == 3
    assert server.requests[1].at - server.requests[0].at >= 0.9
    assert message.startswith("aggregation_KZ_2025-06-30_2025-07-03.json: response lacks keys ['result']")
    assert lake_entries(settings, "ooni_aggregates") == []


def test_ooni_5xx_forever_gives_up_after_the_bounded_attempts(server, settings):
    server.script(Reply(status=503))
    message = ingest_error(server, settings, FetchError)
    assert len(server.requests) == 4  # 1 + http_retries
    url = server.url(server.requests[0].path)
    assert message == f"{url}: HTTP 503 Service Unavailable (gave up after 4 attempts)"
    assert landing.latest_vintage(settings, "ooni_aggregates") is None
    assert lake_entries(settings, "ooni_aggregates") == []


# ---------------------------------------------------------------- ooni_aggregates: mirrors


def test_ooni_samples_are_found_through_the_plan_and_land_under_their_names(settings):
    folder = SAMPLES_DIR / "ooni_aggregates"
    spec = get_source("ooni_aggregates")
    found = mirror_vintages(folder, spec, settings)
    assert found == [(folder / "2025-06-30", "2025-06-30"), (folder / "2025-07-02", "2025-07-02")]
    result = fetch_source(spec, settings, mirror=found[0][0], vintage=found[0][1])
    assert landed_names(result) == ["aggregation_KZ_2025-06-22_2025-07-01.json"]
    assert parse_qsl(urlsplit(result.manifest["files"][0]["url"]).query)[0] == ("probe_cc", "KZ")


def test_ooni_mirror_plan_keeps_only_the_configured_countries(settings, tmp_path):
    for name in ("aggregation_KZ_2025-06-28_2025-07-01.json", "aggregation_RU_2025-06-28_2025-07-01.json"):
        (tmp_path / name).write_bytes(ooni_body(D(2025, 6, 28)))
    (tmp_path / "notes.json").write_text("{}")
    spec = get_source("ooni_aggregates")
    result = fetch_source(spec, settings.with_(ooni_countries=("RU",)), mirror=tmp_path, vintage="m")
    assert landed_names(result) == ["aggregation_RU_2025-06-28_2025-07-01.json"]
    with pytest.raises(FetchError, match="nothing to retrieve in mirror"):
        fetch_source(spec, settings.with_(ooni_countries=("UA",)), mirror=tmp_path)
    with pytest.raises(PipelineError, match="holds no file of the ooni_aggregates plan"):
        mirror_vintages(tmp_path, spec, settings.with_(ooni_countries=("UA",)))


# ---------------------------------------------------------------- land_files


def test_land_files_copies_local_files_under_their_raw_names(settings, tmp_path):
    source = tmp_path / "snapshot-2013-01-05.csv"
    source.write_bytes(b"Updated: 2013-01-05 10:00:00 +0000\n")
    result = land_files(get_source("rkn_registry"), settings, {"dump.csv": source}, "2013-01-05")
    assert (result.changed, result.vintage, landed_names(result)) == (True, "2013-01-05", ["dump.csv"])
    [record] = result.manifest["files"]
    assert record["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert record["url"] == source.resolve().as_uri()
    assert (result.raw_dir / "dump.csv").read_bytes() == source.read_bytes()
    again = land_files(get_source("rkn_registry"), settings, {"dump.csv": source}, "2013-01-05")
    assert not again.changed


def test_land_files_sniffs_like_a_mirror_copy(settings, tmp_path):
    page = tmp_path / "page.json"
    page.write_bytes(HTML_PAGE)
    with pytest.raises(FetchError, match="expected a json, got HTML"):
        land_files(
            get_source("ooni_aggregates"), settings, {"aggregation_KZ_2025-06-28_2025-07-01.json": page}, "v1"
        )
    assert landing.latest_vintage(settings, "ooni_aggregates") is None


@pytest.mark.parametrize("name", ["manifest.json", "../dump.csv", ".hidden"])
def test_land_files_refuses_unsafe_raw_names(settings, tmp_path, name):
    (tmp_path / "f.csv").write_text("x\n")
    with pytest.raises(PipelineError, match="raw name"):
        land_files(get_source("rkn_registry"), settings, {name: tmp_path / "f.csv"}, "v1")


def test_land_files_of_a_missing_path_is_one_line(settings, tmp_path):
    with pytest.raises(FetchError) as error:
        land_files(get_source("rkn_registry"), settings, {"dump.csv": tmp_path / "absent.csv"}, "v1")
    assert one_line(error).endswith("absent.csv: file not found")
