-- Citizen Lab test lists (`<cc>.csv` per configured country, `global.csv` as country_code GLOBAL), every
-- live vintage: one row per list, vintage and URL. category_code is the legend's current code (old codes
-- were mapped at parse time; category_code_raw keeps the published one).
with lake as (
    select * from {{ lake_scan('citizenlab_testlists', 'testlist_urls') }}
)

select
    source_id,
    'testlist_urls' as dataset,
    vintage,
    country_code,
    url,
    domain,
    category_code,
    category_code_raw,
    category_description,
    date_added,
    source,
    notes,
    source_file,
    source_row_number
from lake
