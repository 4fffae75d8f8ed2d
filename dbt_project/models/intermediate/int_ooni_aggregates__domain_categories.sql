-- One test-list category per measured (country, domain): the country's own list first, then the GLOBAL
-- list; among several URLs of the domain in that list, the earliest date_added, then the smallest code
-- (real lists hold domains with several categories: kz.csv yandex.ru, global.csv sourceforge.net, …).
-- Domains match exactly (both sides keep `www.`). Unlisted domains have no row.
with measured as (
    select distinct country_code, domain
    from {{ ref('int_ooni_aggregates__domain_days_current') }}
),

candidates as (
    select
        measured.country_code,
        measured.domain,
        lists.category_code,
        lists.category,
        lists.date_added,
        lists.country_code as list_country_code,
        case when lists.country_code = measured.country_code then 1 else 2 end as list_rank
    from measured
    join {{ ref('int_citizenlab_testlists__urls_newest') }} as lists
        on lists.domain = measured.domain
        and lists.country_code in (measured.country_code, 'GLOBAL')
)

select country_code, domain, category_code, category, list_country_code
from candidates
qualify row_number() over (
    partition by country_code, domain order by list_rank, date_added, category_code
) = 1
