"""Parsing of Citizen Lab test lists and the category legend, on small inputs written in the tests.

Each bad input has its own test and must give one clear line (a pipelines.errors class) naming the file,
and where it applies the data row, column and value.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from pipelines.errors import LayoutError, ParseError
from pipelines.sources.citizenlab_testlists.parse import (
    LEGEND_FILE,
    list_country_code,
    parse_legend,
    parse_list,
    parse_vintage,
    url_domain,
)
from pipelines.sources.citizenlab_testlists.schema import SCHEMAS

LEGEND = (
    b"Category Description,New Code,Replaces old code(s),Description\n"
    b"News Media,NEWS,FEXP,News outlets.\n"
    b'Political Criticism,POLR,POLR POLT,"Critical views, opposition."\n'
    b"Culture,CULTR,HAL ,Culture.\n"
    b"Intergovernmental Organizations,IGO,N/A,IGOs.\n"
)
HEADER = "url,category_code,category_description,date_added,source,notes\n"


def legend():
    return parse_legend(LEGEND, LEGEND_FILE, "v1")[1]


def table(parsed) -> pa.Table:
    return pa.Table.from_batches(list(parsed.batches), schema=SCHEMAS[parsed.dataset])


def parse(body: str, name: str = "kz.csv") -> pa.Table:
    return table(parse_list((HEADER + body).encode(), name, "v1", legend()))


# ---- legend ----------------------------------------------------------------------------------
def test_legend_becomes_category_codes_with_old_codes_normalised():
    parsed, _ = parse_legend(LEGEND, LEGEND_FILE, "v1")
    rows = table(parsed).to_pylist()
    assert parsed.dataset == "category_codes"
    assert [(r["code"], r["category"], r["replaces_old_codes"]) for r in rows] == [
        ("NEWS", "News Media", "FEXP"),
        ("POLR", "Political Criticism", "POLR POLT"),
        ("CULTR", "Culture", "HAL"),  # published as "HAL " with a trailing space
        ("IGO", "Intergovernmental Organizations", None),  # published as N/A
    ]
    assert rows[1]["description"] == "Critical views, opposition."
    assert [r["source_row_number"] for r in rows] == [1, 2, 3, 4]
    assert {r["source_id"] for r in rows} == {"citizenlab_testlists"}


def test_legend_maps_old_and_current_codes_to_current_codes():
    current = legend()
    assert current.codes == {"NEWS", "POLR", "CULTR", "IGO"}
    assert [current.resolve(c) for c in ("FEXP", "NEWS", "POLT", "HAL", "IGO", "N/A", "XYZ")] == [
        "NEWS",
        "NEWS",
        "POLR",
        "CULTR",
        "IGO",
        None,
        None,
    ]


def test_legend_old_code_claimed_by_two_categories_is_an_error():
    body = LEGEND + b"Media,MMED,FEXP,Media.\n"
    with pytest.raises(
        ParseError, match=r"data row 5, column 'Replaces old code\(s\)'.*maps to NEWS.*'FEXP'"
    ):
        parse_legend(body, LEGEND_FILE, "v1")


def test_legend_code_listed_twice_is_an_error():
    with pytest.raises(ParseError, match="data row 5, column 'New Code': code listed twice: 'NEWS'"):
        parse_legend(LEGEND + b"News again,NEWS,,x\n", LEGEND_FILE, "v1")


def test_legend_with_another_header_is_a_layout_error():
    body = LEGEND.replace(b"New Code", b"Code", 1)
    with pytest.raises(LayoutError, match=r"unexpected columns \['Code'\], missing columns \['New Code'\]"):
        parse_legend(body, LEGEND_FILE, "v1")


# ---- lists -----------------------------------------------------------------------------------
def test_list_rows_are_typed_with_domain_and_current_code():
    rows = parse(
        "http://www.Example.KZ:8080/path?q=1,NEWS,News Media,2014-04-15,citizenlab,\n"
        'https://opposition.example/,POLT,Political Criticism,2020-01-02,," blocked, since 2016 "\n'
    ).to_pylist()
    first, second = rows
    assert (first["country_code"], first["domain"], first["category_code"], first["date_added"]) == (
        "KZ",
        "www.example.kz",
        "NEWS",
        dt.date(2014, 4, 15),
    )
    assert first["url"] == "http://www.Example.KZ:8080/path?q=1"  # the URL itself is kept as published
    assert (first["source"], first["notes"]) == ("citizenlab", None)
    assert (second["category_code"], second["category_code_raw"]) == ("POLR", "POLT")
    assert (second["source"], second["notes"]) == (None, "blocked, since 2016")
    assert [r["source_row_number"] for r in rows] == [1, 2]


def test_global_list_gets_country_code_global():
    rows = parse("https://a.example/,NEWS,News Media,2014-04-15,citizenlab,\n", "global.csv").to_pylist()
    assert rows[0]["country_code"] == "GLOBAL"


def test_list_without_final_newline_keeps_its_last_row():
    rows = parse("https://a.example/,NEWS,x,2014-04-15,s,\nhttps://b.example/,NEWS,x,2014-04-15,s,")
    assert rows.column("url").to_pylist() == ["https://a.example/", "https://b.example/"]


@pytest.mark.parametrize(("name", "code"), [("kz.csv", "KZ"), ("ru.csv", "RU"), ("global.csv", "GLOBAL")])
def test_country_code_comes_from_the_file_name(name, code):
    assert list_country_code(name) == code


def test_file_name_that_is_not_a_list_is_a_layout_error():
    with pytest.raises(LayoutError, match="kaz.csv: not a test list file name"):
        list_country_code("kaz.csv")


def test_unknown_category_code_is_an_error():
    with pytest.raises(
        ParseError, match=r"kz.csv: data row 2, column 'category_code': unknown category code.*'BOGUS'"
    ):
        parse("https://a.example/,NEWS,x,2014-04-15,s,\nhttps://b.example/,BOGUS,x,2014-04-15,s,\n")


def test_blank_category_code_is_an_error():
    with pytest.raises(ParseError, match="data row 1, column 'category_code': blank value"):
        parse("https://a.example/,,x,2014-04-15,s,\n")


@pytest.mark.parametrize(
    "url",
    [
        "www.example.kz",  # no scheme
        "ftp://example.kz/",  # not http(s)
        "https:///path-only",  # no host
        "https://exa mple.kz/",  # space inside
        "https://example..kz/",  # empty label
        "https://example.kz:99999/",  # port out of range
    ],
)
def test_malformed_url_is_an_error(url):
    with pytest.raises(ParseError, match=r"data row 1, column 'url': not an absolute http\(s\) URL"):
        parse(f"{url},NEWS,x,2014-04-15,s,\n")


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://WWW.Example.org./a", "www.example.org"),
        ("http://1.2.3.4/", "1.2.3.4"),
        ("https://user@host.example:8443/", "host.example"),
    ],
)
def test_domain_is_the_lower_cased_host_with_www_kept(url, domain):
    assert url_domain(url) == domain


def test_bad_date_is_an_error():
    with pytest.raises(
        ParseError, match=r"data row 1, column 'date_added': not a date \(YYYY-MM-DD\): '15/04/2014'"
    ):
        parse("https://a.example/,NEWS,x,15/04/2014,s,\n")


def test_record_with_too_few_fields_is_an_error():
    with pytest.raises(ParseError, match="kz.csv: data row 2 has 2 fields, expected 6"):
        parse("https://a.example/,NEWS,x,2014-04-15,s,\nhttps://b.example/,NE")


def test_record_with_too_many_fields_is_an_error():
    with pytest.raises(ParseError, match="data row 1 has 7 fields, expected 6"):
        parse("https://a.example/,NEWS,x,2014-04-15,s,note,extra\n")


def test_quote_left_open_by_a_truncated_file_is_an_error():
    with pytest.raises(ParseError, match="kz.csv: cannot read CSV"):
        parse('https://a.example/,NEWS,x,2014-04-15,s,"blocked, since\n')


def test_blank_line_is_an_error():
    with pytest.raises(ParseError, match="data row 2 has 0 fields"):
        parse("https://a.example/,NEWS,x,2014-04-15,s,\n\nhttps://b.example/,NEWS,x,2014-04-15,s,\n")


def test_list_not_in_utf8_is_an_error():
    body = (HEADER + "https://a.example/,NEWS,Новости,2014-04-15,s,\n").encode("cp1251")
    with pytest.raises(ParseError, match="kz.csv: not UTF-8"):
        parse_list(body, "kz.csv", "v1", legend())


def test_list_with_another_header_is_a_layout_error():
    body = b"url,category,date_added\nhttps://a.example/,NEWS,2014-04-15\n"
    with pytest.raises(LayoutError, match=r"unexpected columns \['category'\]"):
        parse_list(body, "kz.csv", "v1", legend())


def test_list_with_header_only_is_an_error():
    with pytest.raises(ParseError, match="kz.csv: no data rows"):
        parse_list(HEADER.encode(), "kz.csv", "v1", legend())


def test_empty_list_is_an_error():
    with pytest.raises(ParseError, match="kz.csv: empty file"):
        parse_list(b"", "kz.csv", "v1", legend())


def test_utf8_bom_is_accepted():
    parsed = parse_list(
        ("\ufeff" + HEADER + "https://a.example/,NEWS,x,2014-04-15,s,\n").encode(), "kz.csv", "v", legend()
    )
    assert table(parsed).num_rows == 1


# ---- a raw folder ---------------------------------------------------------------------------
def test_vintage_yields_legend_then_one_file_of_all_lists_and_ignores_other_files(tmp_path):
    (tmp_path / LEGEND_FILE).write_bytes(LEGEND)
    (tmp_path / "00-LEGEND-country_codes.csv").write_text("CountryCode,CountryName\nKZ,Kazakhstan\n")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "kz.csv").write_text(HEADER + "https://a.example/,NEWS,x,2014-04-15,s,\n")
    (tmp_path / "global.csv").write_text(HEADER + "https://b.example/,HAL,x,2014-04-15,s,\n")
    parsed = [(p.dataset, p.source_file, table(p).num_rows) for p in parse_vintage(tmp_path, "v1")]
    assert parsed == [
        ("category_codes", LEGEND_FILE, 4),
        ("testlist_urls", "global.csv, kz.csv", 2),
    ]


def test_vintage_with_a_bad_list_fails_before_yielding_anything(tmp_path):
    (tmp_path / LEGEND_FILE).write_bytes(LEGEND)
    (tmp_path / "global.csv").write_text(HEADER + "https://b.example/,HAL,x,2014-04-15,s,\n")
    (tmp_path / "kz.csv").write_text(HEADER + "https://a.example/,XYZ,x,2014-04-15,s,\n")
    files = parse_vintage(tmp_path, "v1")
    with pytest.raises(ParseError, match="kz.csv: data row 1, column 'category_code': unknown category code"):
        next(files)


def test_vintage_without_legend_is_a_layout_error(tmp_path):
    (tmp_path / "kz.csv").write_text(HEADER + "https://a.example/,NEWS,x,2014-04-15,s,\n")
    with pytest.raises(LayoutError, match="category legend 00-LEGEND-new_category_codes.csv missing"):
        list(parse_vintage(tmp_path, "v1"))


def test_vintage_without_lists_is_a_layout_error(tmp_path):
    (tmp_path / LEGEND_FILE).write_bytes(LEGEND)
    with pytest.raises(LayoutError, match="no test list"):
        list(parse_vintage(tmp_path, "v1"))


def test_vintage_with_an_unexpected_csv_is_a_layout_error(tmp_path):
    (tmp_path / LEGEND_FILE).write_bytes(LEGEND)
    (tmp_path / "kazakhstan.csv").write_text(HEADER + "https://a.example/,NEWS,x,2014-04-15,s,\n")
    with pytest.raises(LayoutError, match="kazakhstan.csv: not a test list file name"):
        list(parse_vintage(tmp_path, "v1"))
