"""The parser over the three real vintages: every member parses, and rows, sums and censored counts equal
figures counted independently from the CSV text with Python's csv module. Fails (does not skip) when
../shared/data/real is missing while CI=true."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.settings import load_settings
from pipelines.sources.google_removals.parse import (
    ARCHIVE_NAME,
    COUNT,
    LAYOUTS,
    MEMBER_DATASETS,
    PERCENT,
    parse_vintage,
)
from pipelines.sources.google_removals.schema import SCHEMAS
from tests.conftest import GOOGLE_REAL_VINTAGES, require_real

pytestmark = pytest.mark.real

PLAIN_INTEGER = re.compile(r"-?[0-9]+")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CENSORED = re.compile(r"<[0-9]+")


def parse_all(zip_dir: Path, vintage: str, settings) -> dict[str, tuple[str, pa.Table]]:
    """Member path -> (dataset, table) for every member of the vintage."""
    return {
        result.source_file: (
            result.dataset,
            pa.Table.from_batches(list(result.batches), schema=SCHEMAS[result.dataset]),
        )
        for result in parse_vintage(zip_dir, vintage, settings)
    }


def read_csv_members(zip_path: Path) -> dict[str, list[dict[str, str]]]:
    """Member path -> records, read independently of the parser."""
    with zipfile.ZipFile(zip_path) as archive:
        return {
            info.filename: list(csv.DictReader(io.TextIOWrapper(archive.open(info), "utf-8-sig", newline="")))
            for info in archive.infolist()
            if not info.is_dir()
        }


@pytest.fixture(scope="module", params=GOOGLE_REAL_VINTAGES)
def real_vintage(request, tmp_path_factory):
    """(vintage, parsed tables, CSV records, zip folder) of one real vintage, parsed once for the module."""
    vintage = request.param
    zip_dir = require_real("google", vintage)
    settings = load_settings(data_dir=tmp_path_factory.mktemp("data"))
    return vintage, parse_all(zip_dir, vintage, settings), read_csv_members(zip_dir / ARCHIVE_NAME), zip_dir


def test_every_member_parses_into_a_dataset_expected_for_its_file_name(real_vintage):
    _, parsed, records, _ = real_vintage
    assert sorted(parsed) == sorted(records)
    for member, (dataset, table) in parsed.items():
        assert dataset in MEMBER_DATASETS[member.split("/", 1)[1]]
        assert table.schema == SCHEMAS[dataset]


def test_row_count_equals_the_csv_record_count(real_vintage):
    _, parsed, records, _ = real_vintage
    for member, (_, table) in parsed.items():
        assert table.num_rows == len(records[member]), member
        assert table.column("source_row_number").to_pylist() == list(range(1, len(records[member]) + 1))


def _layout_of(dataset: str, header: list[str]):
    return next(
        layout
        for layout in LAYOUTS
        if layout.dataset == dataset and all(set(c.headers) & set(header) for c in layout.columns)
    )


def test_numeric_sums_and_censored_counts_equal_independent_counts(real_vintage):
    _, parsed, records, _ = real_vintage
    checked = 0
    for member, (dataset, table) in parsed.items():
        header = list(records[member][0])
        for column in _layout_of(dataset, header).columns:
            if column.kind not in (COUNT, PERCENT):
                continue
            published = next(h for h in column.headers if h in header)
            cells = [record[published].strip() for record in records[member]]
            pattern = PLAIN_INTEGER if column.kind == COUNT else PLAIN_DECIMAL
            expected_sum = sum(Decimal(c) for c in cells if pattern.fullmatch(c))
            expected_numbers = sum(1 for c in cells if pattern.fullmatch(c))
            expected_censored = sum(1 for c in cells if CENSORED.fullmatch(c))
            numbers = [v for v in table.column(column.name).to_pylist() if v is not None]
            assert len(numbers) == expected_numbers, (member, published)
            assert Decimal(str(sum(numbers))) == expected_sum, (member, published)
            assert table.column(f"{column.name}_is_censored").to_pylist().count(True) == expected_censored
            raws = [v for v in table.column(f"{column.name}_raw").to_pylist() if v is not None]
            assert len(raws) == sum(1 for c in cells if c == "?" or CENSORED.fullmatch(c)), (
                member,
                published,
            )
            checked += 1
    assert checked >= 2


def test_censored_and_unknown_cells_of_the_2023_historical_summary_are_kept_raw(tmp_path):
    parsed = parse_all(
        require_real("google", "2023-03"), "2023-03", load_settings(data_dir=tmp_path / "data")
    )
    _, table = parsed["google-government-removals/google-government-removal-requests-historical.csv"]
    raws = table.column("all_requests_raw").to_pylist()
    assert raws.count("<10") > 0 and raws.count("?") > 0


def test_parsing_twice_gives_equal_tables(real_vintage, tmp_path):
    vintage, parsed, _, zip_dir = real_vintage
    again = parse_all(zip_dir, vintage, load_settings(data_dir=tmp_path / "data"))
    assert sorted(again) == sorted(parsed)
    for member, (dataset, table) in parsed.items():
        assert again[member][0] == dataset
        assert again[member][1].equals(table), member
