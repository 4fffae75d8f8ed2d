"""Parsing OONI aggregation responses, on bodies written in the tests (the documented JSON format).

Each bad body has its own test and must give one clear line naming the file and, where it applies, the
result element and key.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from pipelines.errors import LayoutError, ParseError
from pipelines.sources.ooni_aggregates.parse import (
    parse_raw_name,
    parse_response,
    parse_vintage,
    raw_file_name,
    request_params,
)
from pipelines.sources.ooni_aggregates.schema import SCHEMAS

FILE = "aggregation_KZ_2026-06-28_2026-07-01.json"
WINDOW = (dt.date(2026, 6, 28), dt.date(2026, 7, 1))


def element(day: str = "2026-06-28", domain: str = "www.bbc.com", **counts) -> dict:
    values = {
        "anomaly_count": 3,
        "confirmed_count": 1,
        "failure_count": 1,
        "ok_count": 20,
        "measurement_count": 24,
    }
    return values | counts | {"measurement_start_day": day, "domain": domain}


def body(result: list, **top) -> bytes:
    document = {
        "v": 0,
        "dimension_count": 2,
        "db_stats": {"bytes": 1, "elapsed_seconds": 0.1},
        "result": result,
    }
    return json.dumps(document | top).encode()


def parse(data: bytes, window=WINDOW) -> pa.Table:
    parsed = parse_response(data, FILE, "v1", "KZ", window)
    return pa.Table.from_batches(list(parsed.batches), schema=SCHEMAS[parsed.dataset])


def test_documented_response_becomes_domain_days():
    rows = parse(
        body([element(), element("2026-06-30", "Twitter.com", measurement_count=5, ok_count=2)])
    ).to_pylist()
    assert rows[0] == {
        "country_code": "KZ",
        "measurement_day": dt.date(2026, 6, 28),
        "domain": "www.bbc.com",
        "measurements": 24,
        "anomalies": 3,
        "confirmed": 1,
        "failures": 1,
        "ok": 20,
        "source_id": "ooni_aggregates",
        "vintage": "v1",
        "source_file": FILE,
        "source_row_number": 1,
    }
    assert (rows[1]["domain"], rows[1]["measurements"], rows[1]["source_row_number"]) == ("twitter.com", 5, 2)


def test_response_without_v_and_db_stats_and_with_extra_keys_is_accepted():
    document = {"dimension_count": 2, "result": [element(observation_count=7, loni_ok_value=0.9)]}
    assert parse(json.dumps(document).encode()).num_rows == 1


def test_midnight_timestamp_day_is_read_as_that_day():
    rows = parse(body([element("2026-06-29T00:00:00Z")])).to_pylist()
    assert rows[0]["measurement_day"] == dt.date(2026, 6, 29)


def test_empty_result_gives_no_rows():
    assert parse(body([])).num_rows == 0


def test_html_error_page_is_an_error():
    page = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>"
    with pytest.raises(
        ParseError, match=rf"{FILE}: response is not JSON .*it starts with '<!DOCTYPE html> <html>"
    ):
        parse(page)


def test_truncated_json_is_an_error():
    data = body([element(), element("2026-06-29")])
    with pytest.raises(ParseError, match=r"response is not JSON \(.* at line 1 column \d+\)"):
        parse(data[: len(data) // 2])


def test_empty_body_is_an_error():
    with pytest.raises(ParseError, match="response is not JSON"):
        parse(b"")


def test_body_not_utf8_is_an_error():
    with pytest.raises(ParseError, match="response is not UTF-8"):
        parse(b'{"result": "\xff"}')


def test_json_that_is_not_an_object_is_an_error():
    with pytest.raises(ParseError, match="response is JSON but not an object: list"):
        parse(b"[]")


def test_api_error_answer_is_an_error():
    with pytest.raises(ParseError, match="the API answered an error: 'Invalid characters in input field'"):
        parse(b'{"error": "Invalid characters in input field", "v": 0}')


def test_missing_result_is_an_error():
    with pytest.raises(ParseError, match=r"response lacks keys \['result'\]"):
        parse(b'{"v": 0, "dimension_count": 2, "db_stats": {}}')


def test_missing_dimension_count_is_an_error():
    with pytest.raises(ParseError, match=r"response lacks keys \['dimension_count'\]"):
        parse(b'{"v": 0, "result": []}')


def test_one_dimensional_answer_is_an_error():
    with pytest.raises(ParseError, match="dimension_count is 1, expected 2"):
        parse(body([element()], dimension_count=1))


def test_result_that_is_not_a_list_is_an_error():
    with pytest.raises(ParseError, match="'result' is dict, expected a list"):
        parse(body({"anomaly_count": 1}))  # type: ignore[arg-type]


def test_result_element_that_is_not_an_object_is_an_error():
    with pytest.raises(ParseError, match="result element 2 is not an object"):
        parse(body([element(), 7]))


def test_element_missing_a_count_is_an_error():
    broken = element()
    del broken["ok_count"]
    with pytest.raises(ParseError, match=r"result element 1 lacks keys \['ok_count'\]"):
        parse(body([broken]))


def test_element_missing_the_domain_is_an_error():
    broken = element()
    del broken["domain"]
    with pytest.raises(ParseError, match=r"result element 1 lacks keys \['domain'\]"):
        parse(body([broken]))


def test_negative_count_is_an_error():
    with pytest.raises(ParseError, match="result element 2, key 'anomaly_count': negative count: -1"):
        parse(body([element(), element(anomaly_count=-1)]))


def test_fractional_count_is_an_error():
    with pytest.raises(ParseError, match="key 'measurement_count': not an integer count: 2.5"):
        parse(body([element(measurement_count=2.5)]))


def test_count_as_text_is_an_error():
    with pytest.raises(ParseError, match="key 'ok_count': not an integer count: '20'"):
        parse(body([element(ok_count="20")]))


def test_null_count_is_an_error():
    with pytest.raises(ParseError, match="key 'failure_count': not an integer count: None"):
        parse(body([element(failure_count=None)]))


def test_boolean_count_is_an_error():
    with pytest.raises(ParseError, match="key 'confirmed_count': not an integer count: True"):
        parse(body([element(confirmed_count=True)]))


@pytest.mark.parametrize("day", ["28/06/2026", "2026-06-28T12:00:00Z", "2026-02-30", None, 20260628])
def test_bad_day_is_an_error(day):
    with pytest.raises(ParseError, match=r"key 'measurement_start_day': not a day \(YYYY-MM-DD\)"):
        parse(body([element(day)]))


def test_day_outside_the_requested_window_is_an_error():
    with pytest.raises(
        ParseError, match="key 'measurement_start_day': outside the window 2026-06-28 .. 2026-07-01"
    ):
        parse(body([element("2026-07-01")]))  # until is exclusive


@pytest.mark.parametrize("domain", ["", "   ", None, "www.bbc .com", 42])
def test_bad_domain_is_an_error(domain):
    with pytest.raises(ParseError, match="key 'domain': not a host name"):
        parse(body([element(domain=domain)]))


def test_country_code_that_is_not_two_letters_is_an_error():
    with pytest.raises(ParseError, match="not a two-letter country code: 'KAZ'"):
        parse_response(body([]), FILE, "v1", "KAZ")


# ---- requests and raw file names --------------------------------------------------------------
def test_request_params_are_the_documented_ones():
    assert request_params("KZ", dt.date(2026, 6, 28), dt.date(2026, 7, 1)) == {
        "probe_cc": "KZ",
        "test_name": "web_connectivity",
        "since": "2026-06-28",
        "until": "2026-07-01",
        "axis_x": "measurement_start_day",
        "axis_y": "domain",
        "format": "JSON",
    }


def test_raw_file_name_round_trips():
    name = raw_file_name("KZ", *WINDOW)
    assert name == FILE
    assert parse_raw_name(name) == ("KZ", *WINDOW)


@pytest.mark.parametrize(
    "name",
    ["aggregation_kz_2026-06-28_2026-07-01.json", "aggregation_KZ_2026-06-28.json", "KZ.json"],
)
def test_foreign_raw_file_name_is_a_layout_error(name):
    with pytest.raises(LayoutError, match="not an aggregation response file"):
        parse_raw_name(name)


def test_raw_file_name_with_an_empty_window_is_a_layout_error():
    with pytest.raises(LayoutError, match="empty window"):
        parse_raw_name("aggregation_KZ_2026-07-01_2026-07-01.json")


def test_vintage_yields_one_file_per_dataset_covering_every_response(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / FILE).write_bytes(body([element(), element(domain="a.example")]))
    (tmp_path / "aggregation_RU_2026-06-28_2026-07-01.json").write_bytes(body([element("2026-06-30")]))
    parsed = [
        (p.dataset, p.source_file, pa.Table.from_batches(list(p.batches), schema=SCHEMAS[p.dataset]))
        for p in parse_vintage(tmp_path, "v1")
    ]
    names = f"{FILE} and 1 more"
    assert [(d, f) for d, f, _ in parsed] == [("ooni_domain_days", names), ("ooni_windows", names)]
    days, windows = parsed[0][2], parsed[1][2]
    assert days.column("country_code").to_pylist() == ["KZ", "KZ", "RU"]
    assert windows.to_pylist() == [
        {
            "country_code": cc,
            "window_since": WINDOW[0],
            "window_until": WINDOW[1],
            "result_rows": rows,
            "source_id": "ooni_aggregates",
            "vintage": "v1",
            "source_file": name,
            "source_row_number": 1,
        }
        for cc, rows, name in (("KZ", 2, FILE), ("RU", 1, "aggregation_RU_2026-06-28_2026-07-01.json"))
    ]


def test_vintage_with_an_empty_response_records_its_window_with_zero_rows(tmp_path):
    (tmp_path / FILE).write_bytes(body([]))
    days, windows = (
        pa.Table.from_batches(list(p.batches), schema=SCHEMAS[p.dataset])
        for p in parse_vintage(tmp_path, "v1")
    )
    assert (days.num_rows, windows.column("result_rows").to_pylist()) == (0, [0])


def test_vintage_response_with_a_day_outside_its_window_is_an_error(tmp_path):
    (tmp_path / FILE).write_bytes(body([element("2026-06-27")]))
    with pytest.raises(ParseError, match="outside the window"):
        list(parse_vintage(tmp_path, "v1"))


def test_vintage_without_responses_is_a_layout_error(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(LayoutError, match="no aggregation response"):
        list(parse_vintage(tmp_path, "v1"))
