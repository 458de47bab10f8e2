-- description: The change feed: one row per changed price field. A price_change is two consecutive history versions of one key whose price differs (token prices per source, provider, model, tier, service tier and off-peak window: input and output price; GPU rates per source, provider, instance type, region, zone and pricing type: price per GPU-hour); a key's first version is not a change. A successor_launch compares a model's launch price in the curated catalog with the price of the model it replaced on that day, for the pairs in seeds.model_lineage (the vendor priced the launch against the predecessor, e.g. GPT-4 Turbo against GPT-4). Read by `costcurve changes` and the report.
-- materialized: table
-- grain: dataset, change_kind, source, provider, item, tier, service_tier, off_peak, pricing_type, region, zone, field, change_date
-- tests:
--   not_null(change_date, dataset, change_kind, what, item, old_item, field, direction, source, provider, detected_at, detected_by_refresh)
--   accepted_values(dataset: token_prices, gpu_rates)
--   accepted_values(change_kind: price_change, successor_launch)
--   accepted_values(field: input_usd_per_mtok, output_usd_per_mtok, usd_per_gpu_hour)
--   accepted_values(direction: cut, rise, set, unset)
-- columns:
--   change_date: Date the new price took effect (the new version's valid_from; may lie in the future when a source announces a change ahead).
--   dataset: token_prices or gpu_rates.
--   change_kind: price_change (same key, new price) or successor_launch (a new model priced against its predecessor).
--   what: Human label: model or accelerator, pricing variant, provider and offer.
--   canonical_id: canonical_model for token prices, canonical accelerator for GPU rates; null when unmapped.
--   item: The model id or instance type as the source writes it.
--   old_item: The item whose price old_value is: item itself for a price_change, the predecessor model for a successor_launch.
--   field: The price that changed: input_usd_per_mtok, output_usd_per_mtok or usd_per_gpu_hour.
--   old_value: Price before the change, in the unit of field.
--   new_value: Price from change_date on, in the unit of field.
--   pct_change: (new_value - old_value) / old_value x 100; negative for a cut, null when old_value is 0.
--   direction: cut, rise, set (old_value was null) or unset (new_value is null).
--   source: Upstream both versions came from.
--   provider: Who sells the tokens or rents the GPU.
--   tier: Context tier of a token price; null for GPU rates.
--   service_tier: Service tier of a token price; null for GPU rates.
--   off_peak: Off-peak window flag of a token price; null for GPU rates.
--   pricing_type: on_demand, spot, reserved_1y, ... of a GPU rate; null for token prices.
--   region: Region of a GPU rate ('' when not regional); null for token prices.
--   zone: Availability zone of a GPU rate within its region (GCP and AWS price each zone); null where the source prices per region, and for token prices.
--   detected_at: When costcurve first observed the new price.
--   detected_by_refresh: True when the old price was already known when the new one was first observed (a change caught by a refresh); false when both arrived in one payload (history read from a dated source).
with token_versions as (
    select *,
           lag(input_usd_per_mtok) over k as prev_input,
           lag(output_usd_per_mtok) over k as prev_output,
           lag(first_seen_at) over k as prev_first_seen_at,
           row_number() over k as version_no
    from history.token_prices
    window k as (
        partition by source, provider, model, tier, service_tier, off_peak
        order by coalesce(valid_from, date '0001-01-01')
    )
),
curated as (
    select * from history.token_prices where source = 'curated' and valid_from is not null
),
launches as (
    select *
    from curated
    where canonical_model in (select successor from seeds.model_lineage)
    qualify row_number() over (
        partition by canonical_model, provider, tier, service_tier, off_peak order by valid_from, model
    ) = 1
),
successor_launches as (
    -- the predecessor's latest-starting price in effect on the launch day, when several ids map to it
    select l.*, p.model as prev_model, g.predecessor as prev_canonical,
           p.input_usd_per_mtok as prev_input, p.output_usd_per_mtok as prev_output,
           p.first_seen_at as prev_first_seen_at
    from launches l
    join seeds.model_lineage g on g.successor = l.canonical_model
    join curated p
      on p.canonical_model = g.predecessor and p.provider = l.provider and p.tier = l.tier
     and p.service_tier = l.service_tier and p.off_peak = l.off_peak
     and p.valid_from < l.valid_from and in_effect(p.valid_from, p.valid_to, l.valid_from)
    qualify row_number() over (partition by l.canonical_model, l.provider, l.tier, l.service_tier, l.off_peak
                               order by p.valid_from desc, p.model) = 1
),
token_pairs as (
    select 'price_change' as change_kind, model as prev_model, *
    from token_versions
    where version_no > 1
    union all by name
    select 'successor_launch' as change_kind, *
    from successor_launches
),
token_changes as (
    select
        t.valid_from as change_date, 'token_prices' as dataset, t.change_kind,
        coalesce(t.canonical_model, t.model)
            || case when t.tier <> 'base' then ' ' || t.tier else '' end
            || case when t.service_tier <> 'standard' then ' ' || t.service_tier else '' end
            || case when t.off_peak then ' off-peak' else '' end
            || ' at ' || t.provider
            || case when t.change_kind = 'successor_launch' then ', launch vs ' || t.prev_canonical
                    else '' end as what,
        t.canonical_model as canonical_id, t.model as item, t.prev_model as old_item, f.field,
        f.old_value, f.new_value, t.source, t.provider, t.tier, t.service_tier, t.off_peak,
        null::varchar as pricing_type, null::varchar as region, null::varchar as zone,
        t.first_seen_at as detected_at, t.prev_first_seen_at < t.first_seen_at as detected_by_refresh
    from token_pairs t
    cross join lateral (
        values ('input_usd_per_mtok', t.prev_input, t.input_usd_per_mtok),
               ('output_usd_per_mtok', t.prev_output, t.output_usd_per_mtok)
    ) f(field, old_value, new_value)
    where f.old_value is distinct from f.new_value
),
gpu_changes as (
    select
        valid_from as change_date, 'gpu_rates' as dataset, 'price_change' as change_kind,
        coalesce(accelerator, accelerator_name) || ' ' || pricing_type || ' at ' || provider
            || ' ' || instance_type
            || case when region <> '' then ' (' || concat_ws(' ', region, zone) || ')' else '' end as what,
        accelerator as canonical_id, instance_type as item, instance_type as old_item,
        'usd_per_gpu_hour' as field, prev_rate as old_value, usd_per_gpu_hour as new_value,
        source, provider, null::varchar as tier, null::varchar as service_tier, null::boolean as off_peak,
        pricing_type, region, zone, first_seen_at as detected_at, prev_first_seen_at < first_seen_at as detected_by_refresh
    from (
        select *,
               lag(usd_per_gpu_hour) over k as prev_rate,
               lag(first_seen_at) over k as prev_first_seen_at,
               row_number() over k as version_no
        from history.gpu_rates
        window k as (
            partition by source, provider, instance_type, region, zone, pricing_type
            order by coalesce(valid_from, date '0001-01-01')
        )
    )
    where version_no > 1 and prev_rate is distinct from usd_per_gpu_hour
),
changes as (
    select * from token_changes
    union all by name
    select * from gpu_changes
)
select
    change_date, dataset, change_kind, what, canonical_id, item, old_item, field, old_value, new_value,
    round((new_value - old_value) / nullif(old_value, 0) * 100, 2)::double as pct_change,
    case when old_value is null then 'set' when new_value is null then 'unset'
         when new_value < old_value then 'cut' else 'rise' end as direction,
    source, provider, tier, service_tier, off_peak, pricing_type, region, zone, detected_at, detected_by_refresh
from changes
order by change_date, dataset, what, field
