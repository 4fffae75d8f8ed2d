-- The Citizen Lab test lists as of their newest vintage, one row per list and URL, with the category
-- name from the legend of the same vintage.
select
    country_code,
    url,
    domain,
    category_code,
    category,
    date_added,
    vintage
from {{ ref('int_citizenlab_testlists__urls_newest') }}
