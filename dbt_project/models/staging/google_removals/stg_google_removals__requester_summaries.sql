-- google-government-removal-requests.csv in the summary layout (vintages up to 2025-12; header
-- "Requester" or "Requestor"): requests and items per country, half-year and requester, with the
-- outcome of the items as percentages. Each request has one requester, so requests add up over
-- requesters; items add up too.
with lake as (
    select * from {{ lake_scan('google_removals', 'requests_by_requester') }}
)

select
    lake.source_id,
    'requests_by_requester' as dataset,
    lake.vintage,
    {{ period_columns('lake') }},
    {{ resolved_country_code('lake') }} as country_code,
    lake.country_name,
    lake.country_code_raw,
    lake.requester as requester_label,
    labels.requester,
    taxonomy.requester_group,
    lake.requests,
    lake.requests_raw,
    lake.requests_is_censored,
    lake.items_requested,
    lake.items_requested_raw,
    lake.items_requested_is_censored,
    {%- for outcome in ['removed_legal', 'removed_policy', 'content_not_found', 'not_enough_info',
                        'no_action_taken', 'content_already_removed'] %}
    lake.pct_{{ outcome }},
    {%- endfor %}
    lake.pct_removed_legal_is_censored or lake.pct_removed_policy_is_censored as pct_removed_is_censored,
    -- Items removed, estimated from the percentages: a blank percentage is 0 % when the row has other
    -- percentages (Google leaves zero outcomes blank); with no percentage at all it is unknown.
    case
        when coalesce(lake.pct_removed_legal, lake.pct_removed_policy, lake.pct_content_not_found,
                      lake.pct_not_enough_info, lake.pct_no_action_taken,
                      lake.pct_content_already_removed) is not null
        then round(lake.items_requested
                   * (coalesce(lake.pct_removed_legal, 0) + coalesce(lake.pct_removed_policy, 0)) / 100)::bigint
    end as items_removed_estimated,
    lake.source_file,
    lake.source_row_number
from lake
left join {{ ref('requester_labels') }} as labels
    on labels.source_id = lake.source_id and labels.requester_label = lake.requester
left join {{ ref('requester_taxonomy') }} as taxonomy on taxonomy.requester = labels.requester
{{ pseudo_country_joins('lake') }}
