"""Parser of zapret-info dumps: golden parse of inline CP1251 fixtures and one test per bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipelines.errors import ParseError
from pipelines.sources.rkn_registry.parse import _element_count, duplicate_summary, parse_snapshot

UPDATED = "Updated: 2013-06-06 07:05:00 +0000"
GOOD = [
    "91.224.161.112;ru.pharma-chem.biz;https://ru.pharma-chem.biz/others/a.html;ФСКН;2/1/11-1734;2013-01-02",
    " 141.101.116.173 | 141.101.117.173;*.kavkaz.example;http://www.kavkaz.example  ;Генпрокуратура;27-27/Ид5;2014-02-21",
    "208.67.18.116;rcsyn.com;rcsyn.com | http://rcsyn.com/a;Роскомнадзор;134-РИ;2013-04-08",
    "91.224.161.112;ru.pharma-chem.biz;https://ru.pharma-chem.biz/others/a.html;ФСКН;2/1/11-1734;2013-01-02",
    "91.224.161.113;ru.pharma-chem.biz;https://ru.pharma-chem.biz/others/a.html;ФСКН;2/1/11-1734;2013-01-02",
    "50.97.140.66;;http://ru.scribd.com/doc/1/a;b;суд;2-435/2013;2013-11-15",
]


def cp1251(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("cp1251")


def parse(data: bytes, name: str = "dump.csv"):
    return parse_snapshot([(name, data)], vintage="v1")


def test_golden_parse_reads_every_field_of_cp1251_lines():
    snapshot = parse(cp1251(UPDATED, *GOOD))
    assert snapshot.snapshot_at == dt.datetime(2013, 6, 6, 7, 5, tzinfo=dt.UTC)
    rows = snapshot.table.to_pylist()
    assert [r["source_row_number"] for r in rows] == [1, 2, 3, 4, 5, 6]
    first, second, third, _, _, sixth = rows
    assert first["ips"] == "91.224.161.112" and first["ip_count"] == 1
    assert first["authority"] == "ФСКН" and first["decision_date"] == dt.date(2013, 1, 2)
    assert second["ips"] == "141.101.116.173 | 141.101.117.173" and second["ip_count"] == 2
    assert second["is_wildcard"] is True and second["url"] == "http://www.kavkaz.example"
    assert third["url_count"] == 2 and third["authority"] == "Роскомнадзор"
    assert sixth["domain"] is None and sixth["url"] == "http://ru.scribd.com/doc/1/a;b"  # `;` inside a URL
    assert {r["source_file"] for r in rows} == {"dump.csv"} and {r["vintage"] for r in rows} == {"v1"}


def test_repeated_lines_are_kept_and_flagged():
    table = parse(cp1251(UPDATED, *GOOD)).table
    assert table.column("is_duplicate").to_pylist() == [False, False, False, True, False, False]
    assert table.column("is_repeat_key").to_pylist() == [False, False, False, True, True, False]
    keys = table.column("entry_key").to_pylist()
    assert keys[0] == keys[3] == keys[4] and len(set(keys)) == 4
    assert all(isinstance(key, bytes) and len(key) == 16 for key in keys)  # the md5 digest
    assert duplicate_summary(table) == {
        "lines": 6,
        "entries": 4,
        "exact_duplicate_lines": 1,
        "same_key_other_ips_lines": 1,
    }


def test_entry_key_is_the_md5_digest_of_the_key_fields():
    """The 16 bytes of md5(authority, decision number, ISO decision date, domain, url joined by U+001F, a
    missing domain or url as ''), as hashlib computes them: schema.py's definition, which the marts show in
    hex. Cyrillic is hashed as UTF-8."""
    table = parse(cp1251(UPDATED, *GOOD)).table
    for row in table.to_pylist():
        fields = [row["authority"], row["decision_number"], row["decision_date"].isoformat()]
        text = "\x1f".join([*fields, row["domain"] or "", row["url"] or ""])
        assert row["entry_key"] == hashlib.md5(text.encode("utf-8")).digest(), row


def test_entry_key_ignores_ips_and_surrounding_blanks():
    a = parse(cp1251(UPDATED, "1.2.3.4;d.example;http://d.example/ ;ФСКН;1;2013-01-01")).table
    b = parse(cp1251(UPDATED, "5.6.7.8;d.example ;http://d.example/;ФСКН;1;2013-01-01")).table
    assert a.column("entry_key").to_pylist() == b.column("entry_key").to_pylist()


def test_split_parts_form_one_snapshot():
    parts = [("dump-00.csv", cp1251(UPDATED, *GOOD[:2])), ("dump-01.csv", cp1251(*GOOD[2:]))]
    table = parse_snapshot(parts, vintage="v1").table
    assert table.num_rows == 6
    assert table.column("source_file").to_pylist() == ["dump-00.csv"] * 2 + ["dump-01.csv"] * 4
    assert table.column("source_row_number").to_pylist() == [1, 2, 1, 2, 3, 4]


def test_utf8_file_is_rejected():
    with pytest.raises(ParseError, match="encoded in UTF-8, expected CP1251"):
        parse(("\n".join([UPDATED, *GOOD]) + "\n").encode("utf-8"))


def test_utf8_line_inside_cp1251_file_is_rejected():
    mojibake = GOOD[0].encode("utf-8").decode("cp1251")  # ФСКН written in UTF-8, read as CP1251
    with pytest.raises(ParseError, match="data row 2, column 'authority': UTF-8 text in a CP1251 file"):
        parse(cp1251(UPDATED, GOOD[1], mojibake))


def test_truncated_last_line_is_rejected():
    data = cp1251(UPDATED, *GOOD[:2]) + "208.67.18.116;rcsyn.com;rcs".encode("cp1251")
    with pytest.raises(ParseError, match="data row 3: truncated last line"):
        parse(data)


def test_truncated_last_line_inside_the_date_is_rejected():
    data = cp1251(UPDATED, GOOD[0]) + GOOD[1][:-3].encode("cp1251")
    with pytest.raises(ParseError, match="data row 2, column 'decision_date': truncated last line"):
        parse(data)


def test_missing_updated_line_is_rejected():
    with pytest.raises(ParseError, match="missing 'Updated:' line"):
        parse(cp1251(*GOOD))


def test_malformed_ip_is_rejected():
    with pytest.raises(ParseError, match="data row 2, column 'ips': malformed IP address: '300.1.2.3'"):
        parse(cp1251(UPDATED, GOOD[0], "1.2.3.4 | 300.1.2.3;a.example;http://a.example;ФСКН;1;2013-01-01"))


def test_malformed_url_is_rejected():
    with pytest.raises(ParseError, match="data row 1, column 'url': malformed URL: 'http:// a.example'"):
        parse(cp1251(UPDATED, "1.2.3.4;a.example;http:// a.example;ФСКН;1;2013-01-01"))


def test_ipv6_addresses_are_accepted():
    table = parse(
        cp1251(UPDATED, "2001:db8::1 | 1.2.3.0/24;a.example;http://a.example;ФСКН;1;2013-01-01")
    ).table
    assert table.column("ip_count").to_pylist() == [2]


def test_element_counts_equal_arrows_count_substring_on_random_lists():
    """The fast path counts list elements on the bytes; Arrow's count_substring (non-overlapping) is the
    reference, on values with NULLs, empty strings, overlapping separators and sliced chunks."""
    rng = random.Random(1)
    alphabet = ["a", " ", "|", "b", " | ", "."]
    for _ in range(500):
        values = [
            None if rng.random() < 0.1 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
            for _ in range(rng.randint(1, 12))
        ]
        array = pa.array(values, pa.string())
        chunks = pa.chunked_array([array.slice(0, 2), array.slice(2)])
        for separator in ("|", " | "):
            expected = pc.fill_null(pc.add(pc.cast(pc.count_substring(chunks, separator), pa.int64()), 1), 0)
            assert _element_count(chunks, separator).to_pylist() == expected.to_pylist(), (values, separator)
