{% macro quarter_label(day) -%}
{#- '2025Q2': the calendar quarter of a date or timestamp. -#}
(year({{ day }})::varchar || 'Q' || quarter({{ day }})::varchar)
{%- endmacro %}


{% macro registry_changes_by_period(grain) -%}
{#- Registry entries added, removed and active per registry, authority and period (grain 'year' or
    'quarter'), from the spells of stg_rkn_registry__registry_history:
    - entries_added: spells whose first_seen_at lies in the period (an entry that left and came back
      counts again when it returns);
    - entries_removed: spells whose removed_at (the first snapshot no longer listing it) lies in the period;
    - active_at_end: spells with first_seen_at <= period end and (removed_at IS NULL or > period end),
      computed as the running sum of added - removed (removed_at is always later than first_seen_at).
    Periods run from the one of the first snapshot to the one of the newest snapshot (min first_seen_at ..
    max last_seen_at); an authority gets a row for a period when any of the three is non-zero. -#}
{%- set months = 12 if grain == 'year' else 3 -%}
with history as (
    select * from {{ ref('stg_rkn_registry__registry_history') }}
),

bounds as (
    select registry, registry_country,
        date_trunc('{{ grain }}', min(first_seen_at))::date as first_start,
        date_trunc('{{ grain }}', max(last_seen_at))::date as last_start
    from history
    group by all
),

periods as (
    select registry, registry_country,
        unnest(generate_series(first_start, last_start, interval {{ months }} month))::date as period_start
    from bounds
),

grid as (
    select periods.*, authorities.authority
    from periods
    join (select distinct registry, authority from history) as authorities using (registry)
),

added as (
    select registry, authority, date_trunc('{{ grain }}', first_seen_at)::date as period_start,
        count(*) as entries_added
    from history
    group by all
),

removed as (
    select registry, authority, date_trunc('{{ grain }}', removed_at)::date as period_start,
        count(*) as entries_removed
    from history
    where removed_at is not null
    group by all
),

counted as (
    select grid.registry, grid.registry_country, grid.period_start, grid.authority,
        coalesce(added.entries_added, 0) as entries_added,
        coalesce(removed.entries_removed, 0) as entries_removed
    from grid
    left join added using (registry, authority, period_start)
    left join removed using (registry, authority, period_start)
),

running as (
    select *,
        sum(entries_added - entries_removed) over (
            partition by registry, authority order by period_start rows unbounded preceding
        )::bigint as active_at_end
    from counted
)

select
    registry,
    registry_country,
    {% if grain == 'year' -%}
    year(period_start)::integer as year,
    {%- else -%}
    {{ quarter_label('period_start') }} as quarter,
    {%- endif %}
    authority,
    entries_added,
    entries_removed,
    active_at_end as active_at_{{ grain }}_end
from running
where entries_added > 0 or entries_removed > 0 or active_at_end > 0
{%- endmacro %}
