"""lake.write_batches' encodings (the `parquet.dictionary` field hint) and the rkn snapshot written block by
block (parse.snapshot_batches): same data as the whole-table parse, nothing left behind on an error."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.errors import ParseError
from pipelines.sources.google_removals.schema import SCHEMAS as GOOGLE_SCHEMAS
from pipelines.sources.rkn_registry import parse
from pipelines.sources.rkn_registry.schema import REGISTRY_SNAPSHOT

PLAIN = {lake.DICTIONARY_HINT: b"false"}
HINTED = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False, metadata=PLAIN),
        pa.field("kind", pa.string(), metadata={b"note": b"kept"}),
        pa.field("source_row_number", pa.int64(), nullable=False),
    ]
)


def _batch(schema: pa.Schema = HINTED) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"key": [f"k{i:05d}" for i in range(50)], "kind": ["a", "b"] * 25, "source_row_number": range(1, 51)},
        schema=schema,
    )


def _encodings(path: Path) -> dict[str, set[str]]:
    group = pq.ParquetFile(path).metadata.row_group(0)
    return {group.column(i).path_in_schema: set(group.column(i).encodings) for i in range(group.num_columns)}


def test_dictionary_hint_stores_the_column_without_dictionary(tmp_path):
    path = tmp_path / "part-0.parquet"
    lake.write_batches(path, HINTED, [_batch()])
    encodings = _encodings(path)
    assert "RLE_DICTIONARY" not in encodings["key"]
    assert "RLE_DICTIONARY" in encodings["kind"]
    assert "DELTA_BINARY_PACKED" in encodings["source_row_number"]
    group = pq.ParquetFile(path).metadata.row_group(0)
    statistics = {
        group.column(i).path_in_schema: group.column(i).is_stats_set for i in range(group.num_columns)
    }
    assert statistics == {
        "key": False,
        "kind": True,
        "source_row_number": True,
    }  # min/max of unique keys: none
    assert pq.read_table(path).equals(pa.Table.from_batches([_batch()]))


def test_dictionary_hint_is_left_out_of_the_file_schema(tmp_path):
    path = tmp_path / "part-0.parquet"
    lake.write_batches(path, HINTED, [_batch()])
    stored = pq.read_schema(path)
    assert stored.field("key").metadata is None
    assert stored.field("kind").metadata == {b"note": b"kept"}  # other field metadata is kept


def test_batches_without_the_hint_are_accepted_unchanged(tmp_path):
    unhinted = pa.schema([field.remove_metadata() for field in HINTED])
    assert unhinted == HINTED  # Schema equality ignores metadata: write_batches does not cast these batches
    path = tmp_path / "part-0.parquet"
    assert lake.write_batches(path, HINTED, [_batch(unhinted)]) == 50
    assert pq.read_table(path).column("key").to_pylist() == _batch().column("key").to_pylist()


def test_schemas_without_hints_keep_the_writer_defaults():
    for schema in GOOGLE_SCHEMAS.values():
        delta = [name for name in schema.names if name in lake.DELTA_COLUMNS]
        expected = (
            {
                "use_dictionary": [name for name in schema.names if name not in delta],
                "column_encoding": dict.fromkeys(delta, "DELTA_BINARY_PACKED"),
            }
            if delta
            else {}
        )
        assert lake._encodings(schema) == expected


def _dictionary_encoded(batch: pa.RecordBatch, names: tuple[str, ...]) -> pa.RecordBatch:
    columns = [
        pc.dictionary_encode(c) if n in names else c for n, c in zip(batch.schema.names, batch.columns)
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def test_dictionary_encoded_string_columns_give_the_same_file_byte_for_byte(tmp_path):
    """Dictionary arrays for string fields (the parser's constants) are stored as the strings they stand
    for: the file, its Arrow schema and its metadata are those of plain string batches. Whether a column
    is encoded follows the first batch; a later batch is converted either way."""
    schema = HINTED.with_metadata({b"coverage": b"{}"})
    plain, encoded = tmp_path / "plain.parquet", tmp_path / "encoded.parquet"
    lake.write_batches(plain, schema, [_batch(), _batch()])
    lake.write_batches(encoded, schema, [_dictionary_encoded(_batch(), ("kind",)), _batch()])
    assert encoded.read_bytes() == plain.read_bytes()
    assert pq.read_schema(encoded).equals(lake._without_hints(schema), check_metadata=True)
    lake.write_batches(encoded, schema, [_batch(), _dictionary_encoded(_batch(), ("kind", "key"))])
    assert encoded.read_bytes() == plain.read_bytes()


def test_registry_snapshot_hints_its_near_unique_strings():
    plain = {f.name for f in REGISTRY_SNAPSHOT if (f.metadata or {}).get(lake.DICTIONARY_HINT) == b"false"}
    assert plain == {"entry_key", "ips", "domain", "url", "decision_number"}


def _dump(path: Path, rows: int) -> Path:
    """A CP1251 dump whose lines repeat earlier ones across blocks (exact repeats and other IPs)."""
    lines = ["Updated: 2025-04-05 13:00:00 +0000"]
    for i in range(rows):
        entry = i % 90  # lines 90.. repeat the entries of lines 0..89
        ip = f"10.0.{entry % 250}.{1 + (i // 90) % 2}"  # every other pass: other IPs
        lines.append(f"{ip};d{entry}.example;http://d{entry}.example/p;Роскомнадзор;{entry}-РИ;2024-01-02")
    path.mkdir(parents=True)
    (path / "dump.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1251"))
    return path / "dump.csv"


def test_snapshot_written_block_by_block_equals_the_parsed_table(tmp_path, monkeypatch):
    dump = _dump(tmp_path / "raw", 400)
    monkeypatch.setattr(parse, "FAST_BLOCK_SIZE", 4096)  # several blocks, repeats across them
    expected = parse.parse_files([dump], "v1").table
    path = tmp_path / "staged" / "part-0.parquet"
    lake.write_batches(path, REGISTRY_SNAPSHOT, parse.snapshot_batches([dump], "v1"))
    assert pq.ParquetFile(path).metadata.num_row_groups > 2
    written = pq.read_table(path)
    assert written.equals(expected)
    assert sum(written.column("is_repeat_key").to_pylist()) == 400 - 90
    assert sum(written.column("is_duplicate").to_pylist()) == 400 - 180


def test_error_while_producing_batches_is_raised_as_is_and_leaves_no_file(tmp_path):
    def batches():
        yield _batch()
        raise ParseError("dump.csv: data row 7, column 'url': malformed URL: 'x'")

    path = tmp_path / "part-0.parquet"
    with pytest.raises(ParseError, match="^dump.csv: data row 7, column 'url': malformed URL: 'x'$"):
        lake.write_batches(path, HINTED, lake.prefetched(batches()))
    assert list(tmp_path.iterdir()) == []


def test_writer_stopping_early_stops_the_producer(tmp_path):
    produced = []

    def batches():
        for i in range(100):
            produced.append(i)
            yield _batch()

    stream = lake.prefetched(batches(), depth=1)
    next(stream)
    stream.close()  # what write_batches' failure does to its iterator
    assert len(produced) <= 3
