-- Every category code of the test lists (newest vintage of each list) is in the legend of the same
-- vintage. Lists the codes the legend lacks.
select country_code, vintage, category_code, count(*) as urls
from {{ ref('int_citizenlab_testlists__urls_newest') }}
where category is null
group by all
