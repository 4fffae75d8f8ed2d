-- Requests, items requested and items removed per platform, country and calendar year (the sum of the
-- half-years ending in that year). A yearly figure is NULL when one of its half-year values is unknown
-- or censored; has_censored_values then says whether censoring (`<10`) was the cause.

with periods as (
    select * from {{ ref('int_google_removals__country_periods_reconciled') }}
)

select
    'Google' as platform,
    periods.country_code,
    names.country_name,
    periods.year::integer as year,
    {{ strict_sum('periods.requests') }} as requests,
    {{ strict_sum('periods.items_requested') }} as items_requested,
    {{ strict_sum('periods.items_removed') }} as items_removed,
    ({{ strict_sum('periods.items_removed') }})::double
        / nullif({{ strict_sum('periods.items_requested') }}, 0) as removal_rate,
    count(*)::integer as periods_covered,
    max(periods.period_end) as latest_period_end,
    coalesce(bool_or(periods.is_items_removed_estimated), false) as is_items_removed_estimated,
    coalesce(bool_or(
        coalesce(periods.requests_is_censored, false)
        or coalesce(periods.items_requested_is_censored, false)
        or coalesce(periods.items_removed_is_censored, false)
    ), false) as has_censored_values,
    {{ sorted_vintages(['periods.requests_vintage', 'periods.items_requested_vintage',
                        'periods.items_removed_vintage']) }} as source_vintages
from periods
left join {{ ref('int_google_removals__country_names_resolved') }} as names
    on names.source_id = periods.source_id and names.country_code = periods.country_code
group by all
