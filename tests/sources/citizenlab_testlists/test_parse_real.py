"""The real Citizen Lab lists (../shared/data/real/citizenlab, read in place) load completely.

Every CSV record of every list becomes one row (counted independently with the csv module), and every
category code is mapped to a current legend code.
"""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from expectations.citizenlab_testlists import KNOWN_CATEGORY_CODES
from pipelines.sources.citizenlab_testlists.parse import LEGEND_FILE, parse_vintage
from pipelines.sources.citizenlab_testlists.schema import KEYS, SCHEMAS
from tests.conftest import require_real

LISTS = {"global.csv": "GLOBAL", "kz.csv": "KZ", "ru.csv": "RU"}


@pytest.fixture(scope="module")
def real():
    folder = require_real("citizenlab")
    return folder, by_file(parse_vintage(folder, "real"))


def by_file(parsed_files) -> dict[str, pa.Table]:
    """File name -> its rows (the lists come as one testlist_urls ParsedFile; split it by source_file)."""
    tables = {}
    for parsed in parsed_files:
        table = pa.Table.from_batches(list(parsed.batches), schema=SCHEMAS[parsed.dataset])
        for name in dict.fromkeys(table.column("source_file").to_pylist()):
            tables[name] = table.filter(pc.equal(table.column("source_file"), name))
    return tables


def csv_records(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_real_vintage_yields_the_legend_and_the_three_lists(real):
    _, tables = real
    assert sorted(tables) == sorted([LEGEND_FILE, *LISTS])


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_real_url_is_accounted_for(real, name):
    folder, tables = real
    records = csv_records(folder / name)
    table = tables[name]
    assert table.num_rows == len(records)
    assert table.column("url").to_pylist() == [r["url"].strip() for r in records]
    assert set(table.column("country_code").to_pylist()) == {LISTS[name]}
    assert table.column("source_row_number").to_pylist() == list(range(1, len(records) + 1))


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_real_category_code_is_mapped_to_a_legend_code(real, name):
    _, tables = real
    legend_codes = set(tables[LEGEND_FILE].column("code").to_pylist())
    codes = set(tables[name].column("category_code").to_pylist())
    assert codes <= legend_codes
    assert tables[name].column("category_code").null_count == 0


def test_real_legend_holds_the_known_category_codes(real):
    _, tables = real
    assert set(tables[LEGEND_FILE].column("code").to_pylist()) == KNOWN_CATEGORY_CODES


@pytest.mark.parametrize("name", sorted(LISTS))
def test_real_list_keys_are_unique(real, name):
    _, tables = real
    keys = list(KEYS["testlist_urls"])
    assert tables[name].group_by(keys).aggregate([]).num_rows == tables[name].num_rows


def test_real_counts_as_measured(real):
    _, tables = real
    assert {name: tables[name].num_rows for name in LISTS} == {
        "global.csv": 1722,
        "kz.csv": 553,
        "ru.csv": 1093,
    }
    assert tables[LEGEND_FILE].num_rows == 31
