-- description: The AI Margin Compression Index, monthly: a chain-linked Jevons index of first-party blended list prices of matched models (per tier and overall) divided by a chain-linked Jevons index of the compute cost floor (on-demand GPU $/hour per TB/s of memory bandwidth over matched offers), both 100 at base_date. Below 100, list prices have fallen faster than the compute under them since base_date. Each month is a snapshot of history as of its last day (today for the current month). The full definition, with its matching rules and a worked example, is in docs/methodology.md, "Margin Compression Index".
-- materialized: table
-- grain: date, tier
-- tests:
--   not_null(assumption_set_id, date, as_of, tier, base_date, n_models_priced)
--   accepted_values(tier: all, flagship, mid, small)
--   range(price_index: 0..)
--   range(compute_cost_index: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) used (its blend_input_share weights the blended prices).
--   date: First day of the month the row describes.
--   as_of: Day of the snapshot: the month's last day, or today for the current month.
--   tier: all, flagship, mid or small: the models the price index covers (tier rules in docs/methodology.md).
--   base_date: The month whose indices are 100.
--   price_index: Chain-linked Jevons index of blended list prices, 100 at base_date. Null before a break in the chain (a month with no model matched to the month before) on the far side from base_date, or when the tier has no price at base_date.
--   compute_cost_index: Chain-linked Jevons index of on-demand GPU $/hour per TB/s of memory bandwidth, 100 at base_date; the same for every tier. Null where no offer is priced.
--   mci: margin_compression_index(price_index, compute_cost_index) = 100 x price_index / compute_cost_index.
--   n_models: Models matched between the previous priced month and this one (the link's sample); null in a tier's first month.
--   n_models_priced: Models with a price in this month's snapshot.
--   n_offers: GPU offers matched between the previous month and this one; null in the first month.
--   n_offers_priced: GPU offers priced in this month's snapshot.
with base as (
    -- January 2025: every tier has several matched models and the compute series has begun.
    select date '2025-01-01' as base_date
),
first_party as (
    -- The creator sells the tokens. Three labs' provider ids differ from their canonical creator ids;
    -- keep this list equal to the one in marts.breakeven_api_vs_self_host.
    select p.*, split_part(p.canonical_model, '/', 2) as name
    from history.token_prices p
    left join (values ('mistral', 'mistralai'), ('meta', 'meta-llama'), ('zai', 'z-ai'))
        alias(provider, creator) on alias.provider = p.provider
    where coalesce(alias.creator, p.provider) = split_part(p.canonical_model, '/', 1)
      and p.tier = 'base' and p.service_tier = 'standard' and not p.off_peak and p.mode = 'chat'
      and p.input_usd_per_mtok > 0 and p.output_usd_per_mtok > 0
      -- A version whose start the source does not declare could date from before the model existed;
      -- priced back to the first month it would add flat phantom relatives to every early link.
      and p.valid_from is not null
),
preferred as (
    -- One source per model for the whole series, so a source entering or leaving never moves a price.
    -- The curated catalog first: it dates every version from launch; genai_prices dates only changes.
    select canonical_model,
           arg_min(source, case source when 'curated' then 1 when 'genai_prices' then 2
                                       when 'litellm' then 3 else 4 end) as source
    from first_party
    group by canonical_model
),
tiered as (
    -- Text generation only: some speech, image and realtime models are listed with per-token chat prices.
    select f.*,
           case
               when regexp_matches(
                       name, '(^|[-.])(mini|nano|haiku|flash|lite|small|tiny|instant|air|micro)([-.]|$)'
                   )
                   or starts_with(name, 'ministral')
                   or try_cast(regexp_extract(name, '(^|-)(\d+(\.\d+)?)b(-|$)', 2) as double) < 20
                   then 'small'
               when regexp_matches(name, '(^|[-.])(opus|pro|ultra|large|max|heavy)([-.]|$)')
                   or regexp_matches(
                       name, '^(o1|o3|gpt-4|gpt-4-32k|gpt-4\.5(-preview)?|gpt-5(\.\d+)?|grok-\d+(\.\d+)?)$'
                   )
                   then 'flagship'
               else 'mid'
           end as model_tier
    from first_party f
    join preferred using (canonical_model, source)
    where not regexp_matches(
        name,
        '(^|[-.])(tts|transcribe|audio|realtime|image|embed|search|live|ocr|robotics|moderation)([-.]|$)'
        || '|computer-use|deep-research|[.:]ft'
    )
),
months as (
    select m::date as date, least(last_day(m::date), current_date) as as_of
    from generate_series(
        (select date_trunc('month', min(v)) from (
            select min(valid_from) as v from first_party
            union all select min(valid_from) from history.gpu_rates)),
        current_date,
        interval 1 month
    ) t(m)
),
price_items as (
    select m.date, t.model_tier as tier, t.canonical_model as item,
           blended_price(t.input_usd_per_mtok, t.output_usd_per_mtok, a.blend_input_share) as price
    from months m
    join tiered t on t.valid_from <= m.as_of and (t.valid_to is null or t.valid_to > m.as_of)
    cross join meta.assumptions a
),
specs as (
    -- Curated specs win over Epoch's, as in marts.gpu_rates_current; source breaks the remaining ties.
    select accelerator, memory_bandwidth_tbps
    from history.accelerators
    where valid_to is null
    qualify row_number() over (partition by accelerator order by (source = 'curated') desc, source) = 1
),
compute_items as (
    -- Decode is memory-bound (methodology 3.3), so a TB/s of bandwidth for an hour is the unit of
    -- serving capacity; on-demand only, as list prices are the undiscounted price on the other side.
    select m.date,
           concat_ws('|', r.source, r.provider, r.instance_type, r.region, r.zone, r.pricing_type) as item,
           r.usd_per_gpu_hour::double / s.memory_bandwidth_tbps::double as price
    from months m
    join history.gpu_rates r on r.valid_from <= m.as_of and (r.valid_to is null or r.valid_to > m.as_of)
    join specs s on s.accelerator = r.accelerator
    where r.pricing_type = 'on_demand' and s.memory_bandwidth_tbps > 0
),
observations as (
    -- The long frame core.jevons_chain_index takes: one index per (series, tier).
    select 'price' as series, tier, date, item, price from price_items
    union all
    select 'price', 'all', date, item, price from price_items
    union all
    select 'compute', 'all', date, item, price from compute_items
),
-- From here on: core.jevons_chain_index in SQL (tests/marts hold the two to the same numbers).
log_prices as (
    -- Only positive prices have a logarithm; an item priced several times in a month (several ids of one
    -- model) enters with the geometric mean.
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
links as (
    select c.series, c.tier, c.date, avg(c.log_price - p.log_price) as log_link, count(*) as n_matched
    from log_prices c
    join periods d on d.series = c.series and d.tier = c.tier and d.date = c.date
    join log_prices p on p.series = c.series and p.tier = c.tier and p.date = d.previous and p.item = c.item
    group by c.series, c.tier, c.date
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
indexed as (
    select c.*, base.base_date,
           case when c.breaks = b.breaks then 100 * exp(c.chain - b.chain) end as index
    from cumulated c
    cross join base
    left join cumulated b on b.series = c.series and b.tier = c.tier and b.date = base.base_date
)
select
    a.assumption_set_id, p.date, m.as_of, p.tier, p.base_date,
    p.index as price_index, c.index as compute_cost_index,
    margin_compression_index(p.index, c.index) as mci,
    p.n_matched as n_models, p.n_items as n_models_priced,
    c.n_matched as n_offers, c.n_items as n_offers_priced
from indexed p
join months m on m.date = p.date
left join indexed c on c.series = 'compute' and c.date = p.date
cross join meta.assumptions a
where p.series = 'price'
