-- The test lists as of their newest vintage: for each list (country_code, GLOBAL included) only the rows
-- of the newest vintage holding that list, so a URL a list dropped is gone. `category` is the name the
-- legend of the same vintage gives the code (NULL when the legend lacks it: the singular test
-- assert_testlist_categories_in_legend fails the build then).
with newest as (
    select country_code, max(vintage) as vintage
    from {{ ref('stg_citizenlab_testlists__testlist_urls') }}
    group by all
)

select
    urls.country_code,
    urls.url,
    urls.domain,
    urls.category_code,
    legend.category,
    urls.date_added,
    urls.vintage,
    urls.source_file,
    urls.source_row_number
from {{ ref('stg_citizenlab_testlists__testlist_urls') }} as urls
join newest using (country_code, vintage)
left join {{ ref('stg_citizenlab_testlists__category_codes') }} as legend
    on legend.vintage = urls.vintage and legend.category_code = urls.category_code
