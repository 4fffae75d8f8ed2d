-- One row per registry entry (entry_key): the attributes of its latest spell, when it was first listed,
-- last seen and (if it left) removed, and how many spells (listings separated by absences) it had.
with history as (
    select * from {{ ref('stg_rkn_registry__registry_history') }}
),

per_entry as (
    select registry, entry_key, min(first_seen_at) as first_seen_at, count(*) as spells
    from history
    group by all
),

latest as (
    select * from history
    qualify row_number() over (partition by registry, entry_key order by spell desc) = 1
)

select
    latest.registry,
    latest.registry_country,
    latest.entry_key,
    latest.ips,
    latest.domain,
    latest.url,
    latest.authority,
    latest.decision_number,
    latest.decision_date,
    per_entry.first_seen_at,
    latest.last_seen_at,
    latest.removed_at,
    latest.is_active,
    per_entry.spells,
    latest.is_wildcard
from latest
join per_entry using (registry, entry_key)
