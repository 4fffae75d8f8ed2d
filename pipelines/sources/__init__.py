"""Source packages: one folder per source_id with schema.py (SCHEMAS, KEYS) and parse.py (parse_vintage).

ParsedFile is the contract between every parser and pipelines/run.py's stage_vintage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa


@dataclass
class ParsedFile:
    """One parsed upstream file. `batches` conform to the source's SCHEMAS[dataset] and are lazy:
    consume them before asking the parser for the next file."""

    dataset: str
    source_file: str
    batches: Iterator[pa.RecordBatch]
