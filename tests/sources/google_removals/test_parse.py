"""google_removals parser: golden parses of each known layout and variant, and one test per bad input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.errors import ArchiveError, LayoutError, ParseError
from pipelines.sources.google_removals import parse
from pipelines.sources.google_removals.parse import (
    LAYOUTS,
    half_year_end,
    output_columns,
    parse_csv,
    parse_vintage,
)
from pipelines.sources.google_removals.schema import LINEAGE, SCHEMAS

FOLDER = "google-government-removals"
SUMMARY_HEADER = (
    "Period Ending,Country/Region,CLDR Territory Code,Requester,Number of Requests,"
    "Items Requested To Be Removed,% Removed-Legal,% Removed-Policy,% Content Not Found,"
    "% Not Enough Information ,% No Action Taken,% Content Already Removed"
)
GRANULAR_HEADER = (
    "time_period,country,cldr_territory,requestor,product,reason,number_of_requests,items_requested_removal,"
    "items_removed_legal,items_removed_policy,items_content_not_found,items_not_enough_info,"
    "items_no_action_taken,items_content_already_removed"
)
DETAILED_HEADER = "Period Ending,Country/Region,CLDR Territory Code,Product,Reason,Total"
DETAILED_HISTORICAL_HEADER = (
    'Period Ending,Country/Region,CLDR Territory Code,Product,Reason,Court Orders,"Executive, Police, etc.",'
    "Items Requested To Be Removed"
)
HISTORICAL_HEADER = (
    "Period Ending,Country/Region,CLDR Territory Code,All Requests: Number of Requests,"
    "All Requests: % Fully Or Partially Complied With,All Requests: Items Requested To Be Removed,"
    "Court Orders: Number of Requests,Court Orders: % Fully Or Partially Complied With,"
    "Court Orders: Items Requested To Be Removed,"
    '"Other Requests (Executive, Police, etc.): Number of Requests",'
    '"Other Requests (Executive, Police, etc.): % Fully Or Partially Complied With",'
    '"Other Requests (Executive, Police, etc.): Items Requested To Be Removed"'
)
LINEAGE_NAMES = [f.name for f in LINEAGE]
DETAILED_ROW = "2011-06-30,Kazakhstan,KZ,YouTube,Fraud,1"  # a valid detailed-layout record


def parsed(text: str, name: str = "file.csv", vintage: str = "2026-03") -> tuple[str, pa.Table]:
    result = parse_csv(io.BytesIO(text.encode("utf-8")), name, vintage)
    table = pa.Table.from_batches(list(result.batches), schema=SCHEMAS[result.dataset])
    return result.dataset, table


def rows(text: str, **kwargs) -> list[dict]:
    return parsed(text, **kwargs)[1].to_pylist()


def without_lineage(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in LINEAGE_NAMES}


def measure(value, raw=None, censored=False, name="m") -> dict:
    return {name: value, f"{name}_raw": raw, f"{name}_is_censored": censored}


# ---- layouts as data ------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_each_layout_fills_exactly_its_dataset_schema(layout):
    schema_columns = [f.name for f in SCHEMAS[layout.dataset] if f.name not in LINEAGE_NAMES]
    assert sorted(output_columns(layout)) == sorted(schema_columns)


# ---- golden parses --------------------------------------------------------------------------------
def test_summary_layout_with_requester_and_trailing_space_parses_to_requests_by_requester():
    dataset, table = parsed(
        SUMMARY_HEADER
        + "\n2022-06-30,Kazakhstan,KZ,Information and Communications Authority,70,8528,0,1.5,8,2,83,\n",
        name=f"{FOLDER}/google-government-removal-requests.csv",
        vintage="2023-03",
    )
    assert dataset == "requests_by_requester"
    [row] = table.to_pylist()
    assert row == {
        "period_end": dt.date(2022, 6, 30),
        "country_name": "Kazakhstan",
        "country_code": "KZ",
        "country_code_raw": "KZ",
        "requester": "Information and Communications Authority",
        **measure(70, name="requests"),
        **measure(8528, name="items_requested"),
        **measure(0.0, name="pct_removed_legal"),
        **measure(1.5, name="pct_removed_policy"),
        **measure(8.0, name="pct_content_not_found"),
        **measure(2.0, name="pct_not_enough_info"),
        **measure(83.0, name="pct_no_action_taken"),
        **measure(None, name="pct_content_already_removed"),
        "source_id": "google_removals",
        "vintage": "2023-03",
        "source_file": f"{FOLDER}/google-government-removal-requests.csv",
        "source_row_number": 1,
    }


def test_summary_layout_with_requestor_and_no_trailing_space_parses_the_same():
    line = "2022-06-30,Kazakhstan,KZ,Police,3,4,,,,100,,\n"
    header = SUMMARY_HEADER.replace("Requester", "Requestor").replace("Information ,", "Information,")
    assert [without_lineage(r) for r in rows(header + "\n" + line)] == [
        without_lineage(r) for r in rows(SUMMARY_HEADER + "\n" + line)
    ]
    assert rows(header + "\n" + line)[0]["pct_not_enough_info"] == 100.0


def test_granular_layout_parses_periods_codes_and_item_outcomes():
    text = (
        GRANULAR_HEADER + "\r\n"
        "January - June 2025,Kazakhstan,KZ,Court Order directed at 3rd party,YouTube,National security,"
        "2,2,0,0,1,1,0,0\r\n"
        "July - December 2019,UNKNOWN,EUROPOL,Police,Docs,National security,11,11,0,10,0,0,1,0\r\n"
        "January - June 2022,UNKNOWN,null,Other,Web Search,Defamation,3,44,0,0,0,5,39,0\r\n"
    )
    dataset, table = parsed(text)
    assert dataset == "requests_granular"
    first, europol, unknown = table.to_pylist()
    assert without_lineage(first) == {
        "period_end": dt.date(2025, 6, 30),
        "country_name": "Kazakhstan",
        "country_code": "KZ",
        "country_code_raw": "KZ",
        "period_raw": "January - June 2025",
        "requester": "Court Order directed at 3rd party",
        "product": "YouTube",
        "reason": "National security",
        **measure(2, name="requests"),
        **measure(2, name="items_requested"),
        **measure(0, name="items_removed_legal"),
        **measure(0, name="items_removed_policy"),
        **measure(1, name="items_content_not_found"),
        **measure(1, name="items_not_enough_info"),
        **measure(0, name="items_no_action_taken"),
        **measure(0, name="items_content_already_removed"),
    }
    assert (europol["period_end"], europol["period_raw"]) == (dt.date(2019, 12, 31), "July - December 2019")
    assert (europol["country_code"], europol["country_code_raw"]) == (None, "EUROPOL")
    assert (unknown["country_code"], unknown["country_code_raw"]) == (None, "null")
    assert [r["source_row_number"] for r in (first, europol, unknown)] == [1, 2, 3]


def test_detailed_layout_total_becomes_requests_and_quoted_products_keep_their_commas():
    text = (
        DETAILED_HEADER + "\n"
        '2011-06-30,France,FR,"Google Earth, Google Maps, and Panoramio",Defamation,1\n'
        "2025-06-30,Europol,,YouTube,National Security,51\n"
    )
    dataset, table = parsed(text)
    assert dataset == "requests_by_product_reason"
    assert [without_lineage(r) for r in table.to_pylist()] == [
        {
            "period_end": dt.date(2011, 6, 30),
            "country_name": "France",
            "country_code": "FR",
            "country_code_raw": "FR",
            "product": "Google Earth, Google Maps, and Panoramio",
            "reason": "Defamation",
            **measure(1, name="requests"),
        },
        {
            "period_end": dt.date(2025, 6, 30),
            "country_name": "Europol",
            "country_code": None,
            "country_code_raw": None,
            "product": "YouTube",
            "reason": "National Security",
            **measure(51, name="requests"),
        },
    ]


def test_detailed_historical_layout_maps_court_executive_items_and_blank_reason_to_null():
    text = (
        DETAILED_HISTORICAL_HEADER + "\n"
        "2009-12-31,Argentina,AR,Blogger,,3,1,\n"
        "2018-06-30,Kazakhstan,KZ,Web Search,Defamation,7,0,168\n"
    )
    dataset, table = parsed(text)
    assert dataset == "requests_by_product_reason_historical"
    early, later = (without_lineage(r) for r in table.to_pylist())
    assert early == {
        "period_end": dt.date(2009, 12, 31),
        "country_name": "Argentina",
        "country_code": "AR",
        "country_code_raw": "AR",
        "product": "Blogger",
        "reason": None,
        **measure(3, name="court_order_requests"),
        **measure(1, name="other_requests"),
        **measure(None, name="items_requested"),
    }
    assert (later["reason"], later["court_order_requests"], later["items_requested"]) == (
        "Defamation",
        7,
        168,
    )


def test_historical_summary_keeps_censored_and_unknown_values_as_raw_text():
    text = (
        HISTORICAL_HEADER + "\n"
        "2009-12-31,Armenia,AM,<10,0,,,,,,,\n"
        "2009-12-31,China,CN,?,?,,,,,,,\n"
        "2018-06-30,Kazakhstan,KZ,31,19,1098,7,0,168,24,25,930\n"
    )
    dataset, table = parsed(text)
    assert dataset == "requests_summary_historical"
    armenia, china, kazakhstan = table.to_pylist()
    assert {k: armenia[k] for k in armenia if k.startswith("all_")} == {
        **measure(None, "<10", True, name="all_requests"),
        **measure(0.0, name="all_pct_complied"),
        **measure(None, name="all_items_requested"),
    }
    assert armenia["court_orders_requests"] is None and armenia["court_orders_requests_raw"] is None
    assert {k: china[k] for k in china if k.startswith("all_")} == {
        **measure(None, "?", False, name="all_requests"),
        **measure(None, "?", False, name="all_pct_complied"),
        **measure(None, name="all_items_requested"),
    }
    assert (
        kazakhstan["all_requests"],
        kazakhstan["court_orders_requests"],
        kazakhstan["other_requests"],
    ) == (
        31,
        7,
        24,
    )
    assert (kazakhstan["other_pct_complied"], kazakhstan["other_items_requested"]) == (25.0, 930)


# ---- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12", (12, None, False)),
        ("0", (0, None, False)),
        ("007", (7, None, False)),
        ("-3", (-3, None, False)),  # negative numbers parse; the gate rejects them
        ("<10", (None, "<10", True)),
        ("<5", (None, "<5", True)),
        ("?", (None, "?", False)),
        ("", (None, None, False)),
        ("  42 ", (42, None, False)),
        (" <10 ", (None, "<10", True)),
    ],
)
def test_count_cells_become_number_raw_text_and_censored_flag(cell, expected):
    [row] = rows(f"{DETAILED_HEADER}\n2011-06-30,Kazakhstan,KZ,YouTube,Fraud,{cell}\n")
    assert (row["requests"], row["requests_raw"], row["requests_is_censored"]) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("100", 100.0), ("12.5", 12.5), ("", None), ("?", None), ("0", 0.0)],
)
def test_percent_cells_accept_decimals(cell, expected):
    [row] = rows(f"{SUMMARY_HEADER}\n2022-06-30,Kazakhstan,KZ,Police,3,4,{cell},,,,,\n")
    assert row["pct_removed_legal"] == expected


def test_text_is_stripped_and_codes_that_are_not_two_capitals_become_null():
    text = (
        f"{DETAILED_HEADER}\n"
        " 2011-06-30 , Kazakhstan ,kz, YouTube ,\tFraud ,1\n"
        "2011-06-30,Interpol, ,Blogger,Other,1\n"
        "2011-06-30,Somewhere,ABC,Blogger,Other,1\n"
    )
    kz, interpol, other = rows(text)
    assert (kz["period_end"], kz["country_name"], kz["product"], kz["reason"]) == (
        dt.date(2011, 6, 30),
        "Kazakhstan",
        "YouTube",
        "Fraud",
    )
    assert (kz["country_code"], kz["country_code_raw"]) == (None, "kz")
    assert (interpol["country_code"], interpol["country_code_raw"]) == (None, None)
    assert (other["country_code"], other["country_code_raw"]) == (None, "ABC")


def test_non_ascii_names_survive():
    [row] = rows(f"{DETAILED_HEADER}\n2025-06-30,Türkiye,TR,YouTube,Defamation,4\n")
    assert row["country_name"] == "Türkiye"


def test_utf8_byte_order_mark_before_the_header_is_ignored():
    dataset, table = parsed("\ufeff" + DETAILED_HEADER + "\n2011-06-30,Kazakhstan,KZ,YouTube,Fraud,1\n")
    assert dataset == "requests_by_product_reason" and table.num_rows == 1


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("January - June 2025", dt.date(2025, 6, 30)),
        ("July - December 2024", dt.date(2024, 12, 31)),
        ("July - June 2024", None),
        ("2024H2", None),
    ],
)
def test_half_year_periods_end_on_the_last_day_of_the_half(text, end):
    assert half_year_end(text) == end


def test_row_numbers_continue_across_batches(monkeypatch):
    monkeypatch.setattr(parse, "BLOCK_SIZE", 1024)
    body = "".join(f"2011-06-30,Kazakhstan,KZ,YouTube,Reason {i},{i}\n" for i in range(1, 2001))
    result = parse_csv(io.BytesIO((DETAILED_HEADER + "\n" + body).encode()), "file.csv", "2026-03")
    batches = list(result.batches)
    assert len(batches) > 10
    table = pa.Table.from_batches(batches)
    assert table.column("source_row_number").to_pylist() == list(range(1, 2001))
    assert table.column("requests").to_pylist() == list(range(1, 2001))


def test_parsing_the_same_bytes_twice_gives_identical_batches(monkeypatch):
    monkeypatch.setattr(parse, "BLOCK_SIZE", 4096)
    body = "".join(
        f"2011-06-30,Kazakhstan,KZ,YouTube,R{i % 7},{'<10' if i % 5 == 0 else i}\n" for i in range(3000)
    )
    data = (DETAILED_HEADER + "\n" + body).encode()
    first = list(parse_csv(io.BytesIO(data), "f.csv", "v").batches)
    second = list(parse_csv(io.BytesIO(data), "f.csv", "v").batches)
    assert len(first) == len(second) > 1
    assert all(a.equals(b) for a, b in zip(first, second, strict=True))


# ---- bad input: one test each ---------------------------------------------------------------------
def test_renamed_column_is_a_layout_error_naming_both_spellings():
    header = DETAILED_HEADER.replace("Total", "Total Requests")
    with pytest.raises(LayoutError) as error:
        parse_csv(io.BytesIO(f"{header}\n2011-06-30,KZ,KZ,YouTube,Fraud,1\n".encode()), "f.csv", "v")
    assert str(error.value) == (
        "f.csv: header matches no known layout; closest is detailed: "
        "unexpected columns ['Total Requests'], missing columns ['Total']"
    )


def test_extra_column_is_a_layout_error_naming_it():
    header = GRANULAR_HEADER + ",items_geoblocked"
    with pytest.raises(LayoutError) as error:
        parse_csv(io.BytesIO(f"{header}\n".encode()), "google-government-removal-requests.csv", "v")
    assert str(error.value) == (
        "google-government-removal-requests.csv: header matches no known layout; closest is granular: "
        "unexpected columns ['items_geoblocked'], missing columns []"
    )


def test_missing_column_is_a_layout_error_naming_it():
    header = SUMMARY_HEADER.replace(",% Content Already Removed", "")
    with pytest.raises(LayoutError) as error:
        parse_csv(io.BytesIO(f"{header}\n".encode()), "f.csv", "v")
    assert str(error.value).endswith(
        "closest is summary: unexpected columns [], missing columns ['% Content Already Removed']"
    )


def test_repeated_column_is_a_layout_error():
    with pytest.raises(LayoutError, match=r"header repeats columns \['Total'\]"):
        parse_csv(io.BytesIO(f"{DETAILED_HEADER},Total\n".encode()), "f.csv", "v")


def test_bad_value_is_a_parse_error_naming_file_row_column_and_value():
    text = f"{DETAILED_HEADER}\n{DETAILED_ROW}\n2011-06-30,Kazakhstan,KZ,YouTube,Hate,1O\n"
    with pytest.raises(ParseError) as error:
        rows(text, name="d.csv")
    assert str(error.value) == "d.csv: data row 2, column 'Total': not an integer, '<N', '?' or empty: '1O'"


def test_hexadecimal_looking_count_is_a_parse_error():
    with pytest.raises(ParseError, match=r"data row 1, column 'Total': .*'0x1F'"):
        rows(f"{DETAILED_HEADER}\n2011-06-30,Kazakhstan,KZ,YouTube,Fraud,0x1F\n")


def test_count_too_large_for_int64_is_a_parse_error():
    with pytest.raises(
        ParseError, match=r"data row 1, column 'Total': number out of range: '99999999999999999999'"
    ):
        rows(f"{DETAILED_HEADER}\n2011-06-30,Kazakhstan,KZ,YouTube,Fraud,99999999999999999999\n")


def test_bad_value_in_a_later_batch_names_its_row_in_the_file(monkeypatch):
    monkeypatch.setattr(parse, "BLOCK_SIZE", 1024)
    body = "".join(f"2011-06-30,Kazakhstan,KZ,YouTube,Fraud,{i}\n" for i in range(1, 1000))
    text = f"{DETAILED_HEADER}\n{body}2011-06-30,Kazakhstan,KZ,YouTube,Fraud,many\n"
    with pytest.raises(ParseError, match=r"data row 1000, column 'Total': .*'many'"):
        rows(text)


def test_bad_percent_is_a_parse_error():
    with pytest.raises(ParseError, match=r"data row 1, column '% Removed-Legal': not a number.*'12%'"):
        rows(f"{SUMMARY_HEADER}\n2022-06-30,Kazakhstan,KZ,Police,3,4,12%,,,,,\n")


def test_bad_date_is_a_parse_error():
    with pytest.raises(
        ParseError, match=r"data row 2, column 'Period Ending': not a date \(YYYY-MM-DD\): '2011-02-30'"
    ):
        rows(f"{DETAILED_HEADER}\n{DETAILED_ROW}\n2011-02-30,Kazakhstan,KZ,YouTube,Fraud,1\n")


def test_bad_half_year_is_a_parse_error():
    text = f"{GRANULAR_HEADER}\nH1 2025,Kazakhstan,KZ,Police,YouTube,Fraud,1,1,1,0,0,0,0,0\n"
    with pytest.raises(
        ParseError, match=r"data row 1, column 'time_period': not a half-year period: 'H1 2025'"
    ):
        rows(text)


def test_blank_required_text_is_a_parse_error():
    with pytest.raises(ParseError, match=r"data row 1, column 'Product': blank value in a required column"):
        rows(f"{DETAILED_HEADER}\n2011-06-30,Kazakhstan,KZ, ,Fraud,1\n")


def test_row_with_wrong_number_of_fields_is_a_parse_error_naming_the_row():
    text = (
        f"{DETAILED_HEADER}\n2011-06-30,Kazakhstan,KZ,YouTube,Fraud,1\n2011-06-30,Kazakhstan,KZ,YouTube,1\n"
    )
    with pytest.raises(ParseError, match=r"f\.csv: data row 2 has 5 fields, expected 6"):
        rows(text, name="f.csv")


def test_zero_data_rows_is_a_parse_error():
    with pytest.raises(ParseError, match=r"^f\.csv: no data rows$"):
        rows(f"{DETAILED_HEADER}\n", name="f.csv")


def test_empty_file_is_a_parse_error():
    with pytest.raises(ParseError, match=r"f\.csv: empty file"):
        parse_csv(io.BytesIO(b""), "f.csv", "v")


# ---- parse_vintage --------------------------------------------------------------------------------
def write_vintage(raw_dir: Path, members: dict[str, str]) -> Path:
    raw_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(raw_dir / "google-government-removals.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(f"{FOLDER}/"), b"")
        for name, text in members.items():
            archive.writestr(f"{FOLDER}/{name}", text.encode())
    return raw_dir


def test_parse_vintage_yields_one_parsed_file_per_member(tmp_path, settings):
    raw = write_vintage(
        tmp_path / "raw",
        {
            "google-government-removal-requests.csv": f"{SUMMARY_HEADER}\n2022-06-30,X,KZ,Police,3,4,,,,,,\n",
            "google-government-detailed-removal-requests.csv": f"{DETAILED_HEADER}\n{DETAILED_ROW}\n",
        },
    )
    seen = []
    for result in parse_vintage(raw, "2023-03", settings):
        table = pa.Table.from_batches(list(result.batches))
        seen.append((result.dataset, result.source_file, table.column("vintage")[0].as_py(), table.num_rows))
    assert seen == [
        ("requests_by_requester", f"{FOLDER}/google-government-removal-requests.csv", "2023-03", 1),
        (
            "requests_by_product_reason",
            f"{FOLDER}/google-government-detailed-removal-requests.csv",
            "2023-03",
            1,
        ),
    ]


def test_unknown_member_file_is_a_layout_error_naming_it(tmp_path, settings):
    raw = write_vintage(
        tmp_path / "raw", {"google-government-removal-requests-by-month.csv": DETAILED_HEADER}
    )
    with pytest.raises(
        LayoutError, match=r"unknown member file '.*google-government-removal-requests-by-month\.csv'"
    ):
        next(parse_vintage(raw, "2026-03", settings))


def test_member_with_the_layout_of_another_file_is_a_layout_error(tmp_path, settings):
    raw = write_vintage(
        tmp_path / "raw",
        {"google-government-removal-requests.csv": f"{DETAILED_HEADER}\n{DETAILED_ROW}\n"},
    )
    with pytest.raises(LayoutError, match="layout of requests_by_product_reason, not expected in this file"):
        next(parse_vintage(raw, "2026-03", settings))


def test_parse_vintage_applies_the_member_size_cap_from_settings(tmp_path, settings):
    raw = write_vintage(
        tmp_path / "raw", {"google-government-detailed-removal-requests.csv": DETAILED_HEADER + "\n" * 5000}
    )
    with pytest.raises(ArchiveError, match="past the size cap of 1000 bytes"):
        next(parse_vintage(raw, "2026-03", settings.with_(max_member_bytes=1000)))


def test_corrupt_member_read_by_the_parser_is_an_archive_error(tmp_path, settings):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    body = "".join(f"2011-06-30,Kazakhstan,KZ,YouTube,Reason {i},{i}\n" for i in range(5000))
    with zipfile.ZipFile(raw_dir / "google-government-removals.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(
            f"{FOLDER}/google-government-detailed-removal-requests.csv", DETAILED_HEADER + "\n" + body
        )
    data = bytearray((raw_dir / "google-government-removals.zip").read_bytes())
    at = data.index(b"Reason 4000")
    data[at : at + 6] = b"Rxxxxx"  # same length, wrong CRC
    (raw_dir / "google-government-removals.zip").write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="corrupt or truncated member"):
        for result in parse_vintage(raw_dir, "2026-03", settings):
            list(result.batches)
