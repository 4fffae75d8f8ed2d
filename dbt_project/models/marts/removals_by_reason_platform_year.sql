-- Requests and items requested per platform, country, year and harmonized reason.

with periods as (
    select * from {{ ref('int_google_removals__reason_periods_reconciled') }}
),

-- the label as published, in the newest spelling: from the newest vintage and half-year using it
labels as (
    select reason, arg_max(reason_label, requests_vintage || ' ' || period_end::varchar) as reason_label
    from periods
    where reason_label is not null and requests_vintage is not null
    group by reason
)

select
    'Google' as platform,
    periods.country_code,
    periods.year::integer as year,
    periods.reason,
    coalesce(labels.reason_label, taxonomy.name) as reason_label,
    {{ strict_sum('periods.requests') }} as requests,
    {{ strict_sum('periods.items_requested') }} as items_requested,
    count(*)::integer as periods_covered,
    bool_or(periods.requests_is_censored or periods.items_requested_is_censored) as has_censored_values,
    {{ sorted_vintages(['periods.requests_vintage', 'periods.items_requested_vintage']) }} as source_vintages
from periods
left join labels on labels.reason = periods.reason
left join {{ ref('reason_taxonomy') }} as taxonomy on taxonomy.reason = periods.reason
group by all
