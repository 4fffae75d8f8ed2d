"""The synthetic sample mirror parses like the real files, exercises the old-code mapping and passes the gate."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.citizenlab_testlists.parse import LEGEND_FILE, SOURCE_ID, parse_vintage
from pipelines.sources.citizenlab_testlists.schema import SCHEMAS
from tests.conftest import SAMPLES_DIR

VINTAGE = "2026-06"
SAMPLE_DIR = SAMPLES_DIR / SOURCE_ID / VINTAGE


NEWS_LIKE = ("NEWS", "POLR", "HUMR")  # the categories of marts.blocked_news_domains


@pytest.fixture(scope="module")
def datasets() -> dict[str, pa.Table]:
    return {
        p.dataset: pa.Table.from_batches(list(p.batches), schema=SCHEMAS[p.dataset])
        for p in parse_vintage(SAMPLE_DIR, VINTAGE)
    }


@pytest.fixture(scope="module")
def tables(datasets) -> dict[str, pa.Table]:
    """File name -> its rows."""
    urls = datasets["testlist_urls"]
    files = {LEGEND_FILE: datasets["category_codes"]}
    for name in dict.fromkeys(urls.column("source_file").to_pylist()):
        files[name] = urls.filter(pc.equal(urls.column("source_file"), name))
    return files


def test_samples_hold_the_legend_and_two_lists(tables):
    assert {name: t.num_rows for name, t in tables.items()} == {LEGEND_FILE: 31, "global.csv": 8, "kz.csv": 9}


def test_kz_list_holds_news_political_and_human_rights_domains_of_the_ooni_samples(tables):
    kz = {r["domain"]: r["category_code"] for r in tables["kz.csv"].to_pylist()}
    assert {code for code in kz.values() if code in NEWS_LIKE} == set(NEWS_LIKE)
    assert (kz["opposition-kz.example"], kz["rights-watch-kz.example"], kz["www.kz-news.example"]) == (
        "POLR",
        "HUMR",
        "NEWS",
    )


def test_sample_old_code_is_mapped_and_both_www_forms_are_kept(tables):
    kz = {r["url"]: r for r in tables["kz.csv"].to_pylist()}
    old = kz["https://old-press.example/"]
    assert (old["category_code"], old["category_code_raw"]) == ("NEWS", "FEXP")
    assert kz["http://www.kz-news.example/"]["domain"] == "www.kz-news.example"
    assert kz["https://kz-news.example/"]["domain"] == "kz-news.example"
    assert kz["https://casino-kz.example/"]["source"] is None


def test_samples_are_marked_synthetic():
    assert "synthetic" in (SAMPLES_DIR / SOURCE_ID / "README.md").read_text().lower()


def test_sample_batches_pass_the_gate(datasets, settings):
    for dataset, table in datasets.items():
        path = partition_dir(settings.staging_dir, SOURCE_ID, dataset, VINTAGE) / PART
        write_batches(path, table.schema, table.to_batches())
        result = gate.validate_batch(settings, SOURCE_ID, dataset, VINTAGE, path)
        assert result.passed, (dataset, result.failed)
