-- description: How much of each source's current GPU offers maps to a canonical accelerator: an unmapped offer is in history.gpu_rates but in no price mart, so this is the share of the market the marts cannot see. `costcurve status` prints it; marts.unmapped_accelerators names what is missing.
-- materialized: table
-- grain: source, provider
-- tests:
--   not_null(source, provider, n_offers, n_unmapped, unmapped_share)
--   range(unmapped_share: 0..1)
-- columns:
--   source: Upstream the offers came from.
--   provider: Cloud or marketplace renting the GPUs.
--   n_offers: Offers in effect on the build date (one per instance type, region, zone and pricing type).
--   n_unmapped: Of those, offers whose accelerator name maps to no canonical accelerator.
--   unmapped_share: n_unmapped / n_offers.
--   unmapped_names: The unmapped names, most offers first.
select
    source, provider,
    count(*) as n_offers,
    count(*) filter (where accelerator is null) as n_unmapped,
    round(count(*) filter (where accelerator is null) / count(*), 4) as unmapped_share,
    list(distinct accelerator_name order by accelerator_name) filter (where accelerator is null) as unmapped_names
from history.gpu_rates
where in_effect(valid_from, valid_to, build_date())
group by source, provider
