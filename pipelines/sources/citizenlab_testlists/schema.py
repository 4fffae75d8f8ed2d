"""Typed staging schemas of citizenlab_testlists: one pyarrow schema per dataset.

Conventions (shared with google_removals/schema.py):
- `country_code` is the list's code taken from the file name, upper-cased (`kz.csv` -> `KZ`); the global
  list (`global.csv`) gets `GLOBAL`;
- `domain` is the URL's host, lower-cased, without port or trailing dot, and *with* any `www.` kept: the
  OONI aggregation API reports the measured input's host the same way (`www.theregister.co.uk`), so
  `testlist_urls.domain` joins `ooni_domain_days.domain` exactly. Stripping `www.` would merge distinct
  entries (kz.csv lists both forms of some hosts) and break that join;
- `category_code` is the current code of the legend (an old code in a list is mapped through the legend's
  "Replaces old code(s)"); `category_code_raw` keeps the code as the list publishes it;
- lineage columns close every schema: source_id, vintage, source_file (file name in the raw folder),
  source_row_number (1-based index of the data record in that file, header excluded).
"""

from __future__ import annotations

import pyarrow as pa

LINEAGE = [
    pa.field("source_id", pa.string(), nullable=False),
    pa.field("vintage", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
]

GLOBAL = "GLOBAL"  # country_code of global.csv

SCHEMAS: dict[str, pa.Schema] = {
    # <cc>.csv / global.csv: url,category_code,category_description,date_added,source,notes
    "testlist_urls": pa.schema(
        [
            pa.field("country_code", pa.string(), nullable=False),
            pa.field("url", pa.string(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
            pa.field("category_code", pa.string(), nullable=False),
            pa.field("category_code_raw", pa.string(), nullable=False),
            pa.field("category_description", pa.string()),
            pa.field("date_added", pa.date32(), nullable=False),
            pa.field("source", pa.string()),  # blank in a few rows of ru.csv and global.csv
            pa.field("notes", pa.string()),
        ]
        + LINEAGE
    ),
    # 00-LEGEND-new_category_codes.csv: Category Description,New Code,Replaces old code(s),Description
    "category_codes": pa.schema(
        [
            pa.field("code", pa.string(), nullable=False),
            pa.field("category", pa.string(), nullable=False),
            pa.field("description", pa.string()),
            # the old codes, space-separated as published (whitespace normalised); NULL for `N/A`
            pa.field("replaces_old_codes", pa.string()),
        ]
        + LINEAGE
    ),
}

# Natural keys: unique within one batch (file) and never NULL.
KEYS: dict[str, tuple[str, ...]] = {
    "testlist_urls": ("country_code", "url"),
    "category_codes": ("code",),
}
