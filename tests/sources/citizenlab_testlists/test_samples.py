"""The synthetic sample mirror parses like the real files, exercises the old-code mapping and passes the gate."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.citizenlab_testlists.parse import LEGEND_FILE, SOURCE_ID, parse_vintage
from pipelines.sources.citizenlab_testlists.schema import SCHEMAS
from tests.conftest import SAMPLES_DIR

VINTAGE = "2026-06"
SAMPLE_DIR = SAMPLES_DIR / SOURCE_ID / VINTAGE


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return {
        p.source_file: pa.Table.from_batches(list(p.batches), schema=SCHEMAS[p.dataset])
        for p in parse_vintage(SAMPLE_DIR, VINTAGE)
    }


def test_samples_hold_the_legend_and_two_lists(tables):
    assert {name: t.num_rows for name, t in tables.items()} == {LEGEND_FILE: 31, "global.csv": 8, "kz.csv": 9}


def test_sample_old_code_is_mapped_and_both_www_forms_are_kept(tables):
    kz = {r["url"]: r for r in tables["kz.csv"].to_pylist()}
    old = kz["https://old-press.example/"]
    assert (old["category_code"], old["category_code_raw"]) == ("NEWS", "FEXP")
    assert kz["http://www.kz-news.example/"]["domain"] == "www.kz-news.example"
    assert kz["https://kz-news.example/"]["domain"] == "kz-news.example"
    assert kz["https://casino-kz.example/"]["source"] is None


def test_samples_are_marked_synthetic():
    assert "synthetic" in (SAMPLES_DIR / SOURCE_ID / "README.md").read_text().lower()


def test_sample_batches_pass_the_gate(tables, settings):
    for name, table in tables.items():
        dataset = "category_codes" if name == LEGEND_FILE else "testlist_urls"
        path = partition_dir(settings.staging_dir, SOURCE_ID, dataset, f"{VINTAGE}-{name[:2]}") / PART
        write_batches(path, table.schema, table.to_batches())
        result = gate.validate_batch(settings, SOURCE_ID, dataset, VINTAGE, path)
        assert result.passed, (name, result.failed)
