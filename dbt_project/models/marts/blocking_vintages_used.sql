-- Which lake vintages feed the blocking marts, per source and dataset, with the days their data covers
-- there: the publish step copies the ones that bear on its quarter into its manifest.
--   rkn_registry: every snapshot (the history is computed from all of them); first_day = its `Updated:`
--     day, last_day NULL (its entries stay in the history for every later quarter);
--   citizenlab_testlists: the newest vintage of each list (testlist_urls keeps only those); no days;
--   ooni_aggregates: the vintages that supplied each (country, day) kept, and the days they supplied.
select source_id, dataset, vintage, snapshot_at::date as first_day, null::date as last_day
from {{ ref('stg_rkn_registry__snapshot_vintages') }}

union all

select distinct 'citizenlab_testlists', 'testlist_urls', vintage, null::date, null::date
from {{ ref('int_citizenlab_testlists__urls_newest') }}

union all

select 'ooni_aggregates', 'ooni_domain_days', vintage, min(measurement_day), max(measurement_day)
from {{ ref('int_ooni_aggregates__domain_days_current') }}
group by vintage
