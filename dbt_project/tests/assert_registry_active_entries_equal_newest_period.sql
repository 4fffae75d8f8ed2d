-- The entries active in registry_entries are, per registry and authority, those active at the end of the
-- newest year of blocking_by_authority_year (both describe the newest snapshot).
with entries as (
    select registry, authority, count(*) filter (where is_active) as active
    from {{ ref('registry_entries') }}
    group by all
),

newest_year as (
    select registry, authority, active_at_year_end as active
    from {{ ref('blocking_by_authority_year') }}
    where year = (select max(year) from {{ ref('blocking_by_authority_year') }})
)

select registry, authority, entries.active as active_entries, newest_year.active as active_at_year_end
from entries
full join newest_year using (registry, authority)
where coalesce(entries.active, 0) <> coalesce(newest_year.active, 0)
