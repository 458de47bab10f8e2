-- description: The AI Margin Compression Index, monthly: a chain-linked Jevons index of first-party blended list prices of record (per tier and overall) divided by a chain-linked Jevons index of the compute cost floor (GPU $/hour per TB/s of memory bandwidth over the whole panel of offers: provider x instance x region x zone x pricing type), both 100 in the assumption set's mci_base_date month. Each month's link is the geometric mean of the price relatives of the items priced at both month-ends, so an item entering or leaving never moves it; a price is priced only from a known start (a version whose start the source does not date counts only in the month before the change that ends it), so the index does not depend on the day the warehouse was built. Below 100, list prices have fallen faster than the compute under them. The definition, with a worked link, is in docs/methodology.md, "Margin Compression Index".
-- materialized: table
-- grain: date, tier
-- tests:
--   not_null(assumption_set_id, date, as_of, provisional, tier, base_date, n_models_priced, low_coverage)
--   accepted_values(tier: all, flagship, mid, small)
--   range(price_index: 0..)
--   range(compute_cost_index: 0..)
--   range(successor_price_index: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions): its blend_input_share weights the blended prices, its mci_base_date is the base, its mci_min_matched_items the coverage threshold.
--   date: First day of the month the row describes.
--   as_of: Day the month's prices are read on: the month's last day, or the build date for the current month.
--   provisional: True for the current month, whose as_of is the build date and which a later build may change.
--   tier: all, flagship, mid or small: the models the price index covers (intermediate.int_token_price_of_record.model_tier).
--   base_date: The month whose indices are 100 (meta.assumptions.mci_base_date).
--   price_index: Chain-linked Jevons index of blended list prices of record, 100 at base_date. Null before a break in the chain (a month with no model matched to the month before) on the far side from base_date, or when the tier has no price at base_date.
--   compute_cost_index: Chain-linked Jevons index of GPU $/hour per TB/s over matched offers, 100 at base_date; the same for every tier. Null where no offer is priced.
--   mci: margin_compression_index(price_index, compute_cost_index) = 100 x price_index / compute_cost_index.
--   successor_price_index: Tier all only: the price index with each chain of seeds.model_lineage (GPT-4 -> GPT-4 Turbo -> GPT-4o -> GPT-4.1 ...) as one item priced at its newest member, so a successor's launch price against its predecessor's counts as a price change. Not adjusted for quality.
--   price_link: This month's price relative: exp(mean log relative over n_models matched items); null in a tier's first month.
--   compute_link: This month's compute-cost relative over n_offers matched offers; null in the first month.
--   n_models: Models matched between the previous priced month and this one (the link's sample); null in a tier's first month.
--   n_models_priced: Models with a price of record this month.
--   n_offers: GPU offers matched between the previous month and this one; null in the first month.
--   n_offers_priced: GPU offers priced this month.
--   share_of_move: The tier's part of the all-tier price link: the sum of its matched models' log relatives over the log of the all-tier link (the tiers' shares add to 1); null when the all-tier link is 1 or absent. 1 on tier all rows with a move.
--   low_coverage: True when the month's price link (n_models) or compute link (n_offers) rests on fewer than mci_min_matched_items matched items, or is absent: the number is published but should not be quoted as solid.
with months as (
    select m::date as date, least(last_day(m::date), build_date()) as as_of,
           last_day(m::date) > build_date() as provisional
    from generate_series(
        (select date_trunc('month', least(
            (select min(valid_from) from intermediate.int_token_price_of_record where start_basis <> 'unknown'),
            (select min(valid_from) from history.gpu_rates where valid_from is not null)))),
        build_date(),
        interval 1 month
    ) t(m)
),
priced as (
    -- A period with an unknown start is priced only at the month-end before the change that ends it: it
    -- gives that change its "before" price and nothing else (no flat relatives from an invented past).
    select m.date, r.canonical_model as item, r.model_tier, r.blended_usd_per_mtok as price
    from months m
    join intermediate.int_token_price_of_record r
      on in_effect(r.valid_from, r.valid_to, m.as_of)
     and (r.start_basis <> 'unknown' or date_trunc('month', r.valid_to) = m.date + interval 1 month)
    where r.text_generation and r.blended_usd_per_mtok > 0
),
chains as (
    -- seeds.model_lineage as chains: each model's root (oldest predecessor) and its place in the chain.
    with recursive walk(model, root, depth) as (
        select predecessor, predecessor, 0 from seeds.model_lineage
        where predecessor not in (select successor from seeds.model_lineage)
        union all
        select l.successor, w.root, w.depth + 1
        from walk w join seeds.model_lineage l on l.predecessor = w.model
    )
    select * from walk
),
gpu_versions as (
    select r.*, s.memory_bandwidth_tbps,
           start_basis(r.valid_from, r.first_seen_at, row_number() over (
               partition by r.source, r.provider, r.instance_type, r.region, r.zone, r.pricing_type
               order by coalesce(r.valid_from, date '0001-01-01'))) as start_basis
    from history.gpu_rates r
    join intermediate.int_accelerator_spec_of_record s on s.accelerator = r.accelerator
    where s.memory_bandwidth_tbps > 0 and r.usd_per_gpu_hour > 0
),
compute_items as (
    -- Decode is memory-bound (methodology 3.3), so a TB/s of bandwidth for an hour is the unit of serving
    -- capacity. Every pricing type is its own item: a spot offer is compared only with itself.
    select m.date,
           concat_ws('|', g.source, g.provider, g.instance_type, g.region, g.zone, g.pricing_type) as item,
           g.usd_per_gpu_hour::double / g.memory_bandwidth_tbps::double as price
    from months m
    join gpu_versions g
      on in_effect(g.valid_from, g.valid_to, m.as_of)
     and (g.start_basis <> 'unknown' or date_trunc('month', g.valid_to) = m.date + interval 1 month)
),
observations as (
    -- The long frame core.jevons_chain_index takes: one index per (series, tier).
    select 'price' as series, model_tier as tier, date, item, price from priced
    union all
    select 'price', 'all', date, item, price from priced
    union all
    select 'successor', 'all', p.date, coalesce(c.root, p.item), arg_max(p.price, coalesce(c.depth, 0))
    from priced p left join chains c on c.model = p.item
    group by p.date, coalesce(c.root, p.item)
    union all
    select 'compute', 'all', date, item, price from compute_items
),
-- From here on: core.jevons_chain_index in SQL (tests/marts hold the two to the same numbers).
log_prices as (
    select series, tier, date, item, avg(ln(price)) as log_price
    from observations
    where price > 0
    group by series, tier, date, item
),
periods as (
    select series, tier, date, count(*) as n_items,
           lag(date) over (partition by series, tier order by date) as previous
    from log_prices
    group by series, tier, date
),
relatives as (
    select c.series, c.tier, c.date, c.item, c.log_price - p.log_price as log_relative
    from log_prices c
    join periods d on d.series = c.series and d.tier = c.tier and d.date = c.date
    join log_prices p on p.series = c.series and p.tier = c.tier and p.date = d.previous and p.item = c.item
),
links as (
    select series, tier, date, avg(log_relative) as log_link, count(*) as n_matched
    from relatives
    group by series, tier, date
),
chained as (
    select d.series, d.tier, d.date, d.n_items, l.log_link,
           case when d.previous is not null then coalesce(l.n_matched, 0) end as n_matched
    from periods d
    left join links l on l.series = d.series and l.tier = d.tier and l.date = d.date
),
cumulated as (
    -- Log space turns the chain product into a running sum; counting breaks lets a month be linked to
    -- the base only when no break lies between them.
    select *,
           sum(coalesce(log_link, 0)) over w as chain,
           sum(case when n_matched = 0 then 1 else 0 end) over w as breaks
    from chained
    window w as (partition by series, tier order by date rows between unbounded preceding and current row)
),
base as (
    select mci_base_date as base_date from meta.assumptions
),
indexed as (
    select c.*, base.base_date,
           case when c.breaks = b.breaks then 100 * exp(c.chain - b.chain) end as index
    from cumulated c
    cross join base
    left join cumulated b on b.series = c.series and b.tier = c.tier and b.date = base.base_date
),
shares as (
    -- Each tier's matched log relatives over the all-tier link's matched count: the tiers' parts add up
    -- to the all-tier log link.
    select r.date, p.model_tier as tier, sum(r.log_relative) / any_value(l.n_matched) as log_part,
           any_value(l.log_link) as log_link_all
    from relatives r
    join priced p on p.date = r.date and p.item = r.item
    join links l on l.series = 'price' and l.tier = 'all' and l.date = r.date
    where r.series = 'price' and r.tier = 'all'
    group by r.date, p.model_tier
)
select
    a.assumption_set_id, p.date, m.as_of, m.provisional, p.tier, p.base_date,
    p.index as price_index, c.index as compute_cost_index,
    margin_compression_index(p.index, c.index) as mci,
    case when p.tier = 'all' then s.index end as successor_price_index,
    exp(p.log_link) as price_link, exp(c.log_link) as compute_link,
    p.n_matched as n_models, p.n_items as n_models_priced,
    c.n_matched as n_offers, c.n_items as n_offers_priced,
    case when p.tier = 'all' then case when p.log_link <> 0 then 1.0 end
         else sh.log_part / nullif(sh.log_link_all, 0) end as share_of_move,
    coalesce(p.n_matched, 0) < a.mci_min_matched_items or coalesce(c.n_matched, 0) < a.mci_min_matched_items
        as low_coverage
from indexed p
join months m on m.date = p.date
left join indexed c on c.series = 'compute' and c.date = p.date
left join indexed s on s.series = 'successor' and s.date = p.date
left join shares sh on sh.date = p.date and sh.tier = p.tier
cross join meta.assumptions a
where p.series = 'price'
