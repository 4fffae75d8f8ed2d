-- One row per OONI response file: the days it covers, [window_since, window_until) (until is exclusive,
-- as OONI's `until`), and how many result rows it held (0 is possible: a re-fetched window may be empty).
with lake as (
    select * from {{ lake_scan('ooni_aggregates', 'ooni_windows') }}
)

select
    source_id,
    'ooni_windows' as dataset,
    vintage,
    country_code,
    window_since,
    window_until,
    result_rows,
    source_file
from lake
