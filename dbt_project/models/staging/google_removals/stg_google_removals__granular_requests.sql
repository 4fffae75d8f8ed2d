-- google-government-removal-requests.csv in the granular layout (from vintage 2026-03): one row per
-- country, half-year, requester, product and reason with item counts by outcome. A request naming several
-- products or reasons appears on several rows, so `requests` does NOT add up over rows (KZ 2025 H1: 153
-- summed vs 75 real requests); the item counts do add up.
with lake as (
    select * from {{ lake_scan('google_removals', 'requests_granular') }}
)

select
    lake.source_id,
    'requests_granular' as dataset,
    lake.vintage,
    {{ period_columns('lake') }},
    lake.period_raw,
    {{ resolved_country_code('lake') }} as country_code,
    lake.country_name,
    lake.country_code_raw,
    lake.requester as requester_label,
    labels.requester,
    taxonomy.requester_group,
    lake.product,
    lake.reason as reason_label,
    reasons.reason,
    lake.requests as requests_not_additive,
    lake.requests_is_censored as requests_not_additive_is_censored,
    lake.items_requested,
    lake.items_requested_raw,
    lake.items_requested_is_censored,
    {%- for outcome in ['removed_legal', 'removed_policy', 'content_not_found', 'not_enough_info',
                        'no_action_taken', 'content_already_removed'] %}
    lake.items_{{ outcome }},
    lake.items_{{ outcome }}_is_censored,
    {%- endfor %}
    lake.items_removed_legal + lake.items_removed_policy as items_removed,
    lake.items_removed_legal_is_censored or lake.items_removed_policy_is_censored as items_removed_is_censored,
    lake.source_file,
    lake.source_row_number
from lake
left join {{ ref('requester_labels') }} as labels
    on labels.source_id = lake.source_id and labels.requester_label = lake.requester
left join {{ ref('requester_taxonomy') }} as taxonomy on taxonomy.requester = labels.requester
left join {{ ref('google_reason_labels') }} as reasons on reasons.reason_label = lake.reason
{{ pseudo_country_joins('lake') }}
