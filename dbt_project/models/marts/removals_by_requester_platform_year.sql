-- Requests, items requested and items removed per platform, country, year and harmonized requester.

select
    'Google' as platform,
    country_code,
    year::integer as year,
    requester,
    requester_group,
    {{ strict_sum('requests') }} as requests,
    {{ strict_sum('items_requested') }} as items_requested,
    {{ strict_sum('items_removed') }} as items_removed,
    count(*)::integer as periods_covered,
    coalesce(bool_or(is_items_removed_estimated), false) as is_items_removed_estimated,
    bool_or(requests_is_censored or items_requested_is_censored or items_removed_is_censored)
        as has_censored_values,
    {{ sorted_vintages(['requests_vintage', 'items_requested_vintage', 'items_removed_vintage']) }}
        as source_vintages
from {{ ref('int_google_removals__requester_periods_reconciled') }}
group by all
