-- The category legend (00-LEGEND-new_category_codes.csv) of every live vintage: code -> category name.
with lake as (
    select * from {{ lake_scan('citizenlab_testlists', 'category_codes') }}
)

select
    source_id,
    'category_codes' as dataset,
    vintage,
    code as category_code,
    category,
    description,
    replaces_old_codes,
    source_file,
    source_row_number
from lake
