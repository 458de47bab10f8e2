-- description: Accelerator names in GPU rates that map to no canonical accelerator: add an alias to sources/catalog/accelerator_aliases.csv to bring their offers into the marts. Nothing is dropped; these rows stay in history.gpu_rates with accelerator null.
-- materialized: table
-- grain: accelerator_name, source
-- tests:
--   not_null(source, providers, n_offers, last_seen_at)
--   range(n_offers: 1..)
-- columns:
--   accelerator_name: The name as the source writes it.
--   source: Source that carries it.
--   providers: Providers offering it.
--   n_offers: Current offers with this name.
--   min_usd_per_gpu_hour: Cheapest current offer.
--   last_seen_at: When a payload last carried it.
select
    accelerator_name, source,
    string_agg(distinct provider, ', ' order by provider) as providers,
    count(*) as n_offers,
    min(usd_per_gpu_hour) as min_usd_per_gpu_hour,
    max(last_seen_at) as last_seen_at
from history.gpu_rates
where accelerator is null and valid_to is null
group by accelerator_name, source
