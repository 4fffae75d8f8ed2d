-- The derived history of the Roskomnadzor registry (pipelines/sources/rkn_registry/history.py, stored at
-- lake/rkn_registry/registry_history/current/part-0.parquet and recomputed from every loaded snapshot):
-- one row per spell of an entry, i.e. per run of consecutive snapshots listing its entry_key.
-- Timestamps are naive and hold UTC (the snapshots' `Updated:` times). The lake stores entry_key as the md5
-- digest's 16 bytes; here it becomes its 32 lowercase hex digits (= md5() of the key's text).
with lake as (
    select * from {{ lake_scan('rkn_registry', 'registry_history') }}
)

select
    'rkn_registry' as registry,
    'RU' as registry_country,
    lower(hex(entry_key)) as entry_key,
    spell,
    ips,
    domain,
    is_wildcard,
    url,
    authority,
    decision_number,
    decision_date,
    first_seen_at,
    last_seen_at,
    removed_at,
    is_active,
    snapshots_seen
from lake
