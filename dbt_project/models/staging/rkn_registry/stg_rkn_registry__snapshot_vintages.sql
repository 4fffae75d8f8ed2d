-- The registry snapshots in the lake (one per vintage) and their `Updated:` times: the snapshots the
-- history (stg_rkn_registry__registry_history) is computed from. Reads two dictionary-encoded constant
-- columns of each snapshot file, not its lines.
select distinct
    'rkn_registry' as source_id,
    'registry_snapshot' as dataset,
    vintage,
    snapshot_at
from {{ lake_scan('rkn_registry', 'registry_snapshot') }}
