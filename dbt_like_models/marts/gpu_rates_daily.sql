-- description: Per day, canonical accelerator and pricing type: the cheapest, median and list price of a GPU-hour across every offer in effect that day. List price is the median of the hyperscalers' (aws, gcp, azure) offers, the undiscounted sticker price; null when no hyperscaler offers it. Days run from the first dated rate to today.
-- materialized: table
-- grain: day, accelerator, pricing_type
-- tests:
--   not_null(day, accelerator, pricing_type, n_offers, n_providers, cheapest_usd_per_gpu_hour, cheapest_provider, median_usd_per_gpu_hour)
--   range(n_offers: 1..)
--   range(n_providers: 1..)
--   range(cheapest_usd_per_gpu_hour: 0..)
-- columns:
--   day: The day.
--   accelerator: Canonical accelerator id.
--   pricing_type: on_demand, spot, reserved_1y, reserved_3y, committed_<N>m or marketplace.
--   n_offers: Offers in effect that day.
--   n_providers: Distinct providers among them.
--   cheapest_usd_per_gpu_hour: Lowest per-GPU-hour price that day.
--   cheapest_provider: Provider of the cheapest offer (alphabetically first on a tie).
--   median_usd_per_gpu_hour: Median per-GPU-hour price across offers.
--   list_usd_per_gpu_hour: Median across aws, gcp and azure offers; null when none of them offers it.
with rates as (
    select * from history.gpu_rates where accelerator is not null
),
days as (
    select unnest(generate_series(
        (select min(valid_from) from rates), build_date(), interval 1 day))::date as day
),
live as (
    select d.day, r.*
    from days d
    join rates r on in_effect(r.valid_from, r.valid_to, d.day)
)
select
    day, accelerator, pricing_type,
    count(*) as n_offers,
    count(distinct provider) as n_providers,
    min(usd_per_gpu_hour) as cheapest_usd_per_gpu_hour,
    arg_min(provider, (usd_per_gpu_hour, provider)) as cheapest_provider,
    median(usd_per_gpu_hour) as median_usd_per_gpu_hour,
    median(usd_per_gpu_hour) filter (where provider in ('aws', 'gcp', 'azure')) as list_usd_per_gpu_hour
from live
group by day, accelerator, pricing_type
