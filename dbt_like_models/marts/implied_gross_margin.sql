-- description: What an API provider keeps from serving an open-weights model: for each open-weights model whose architecture a size class represents, each provider selling it today (its creator or a third-party host) and each weight precision and utilization, the provider's blended list price against the cheapest self-hosted cost of a blended token of that size class on a non-interruptible rental (marts.self_host_cost), and implied_gross_margin = (price - cost) / price. A floor-cost view: a provider with its own hardware or a long contract may pay less than any rental offer here. See docs/methodology.md, "Margin Compression Index".
-- materialized: table
-- grain: model, api_provider, dtype, utilization
-- tests:
--   not_null(assumption_set_id, model, size_class, api_source, api_provider, api_price_model, api_usd_per_mtok, dtype, utilization, accelerator, cost_provider, cost_pricing_type, instance_type, gpus, self_host_usd_per_blended_mtok, implied_gross_margin)
--   range(implied_gross_margin: ..1)
--   range(utilization: 0..1)
--   relationships(accelerator -> marts.self_host_cost.accelerator)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) these numbers were computed with.
--   model: Open-weights model, canonical id.
--   size_class: The size class whose architecture the model has (seeds.open_weights_twins: the Llama 3 and 3.x instruct models whose shapes the default classes use).
--   api_source: Source of the price, the first in seeds.source_precedence that prices this provider's model.
--   api_provider: Who sells the model's tokens.
--   api_price_model: The model id as the source writes it; the provider's cheapest id for this model.
--   api_input_usd_per_mtok: List price per million input tokens.
--   api_output_usd_per_mtok: List price per million output tokens.
--   api_usd_per_mtok: blended_price(input, output, blend_input_share).
--   dtype: Weight precision of the self-hosted deployment.
--   utilization: Share of paid hours the deployment serves traffic (assumption grid).
--   accelerator: Accelerator of the cheapest self-hosted deployment (per blended token) for this size class, precision and utilization.
--   cost_provider: Provider renting it.
--   cost_pricing_type: Pricing type of that offer: on_demand, reserved_* or committed_*; spot and marketplace offers can be taken away mid-service and are left out.
--   instance_type: Instance, SKU or offer id of that offer.
--   gpus: GPUs of that deployment.
--   self_host_usd_per_mtok: Its cost per million output tokens (marts.self_host_cost.usd_per_mtok).
--   self_host_usd_per_blended_mtok: Its cost per million tokens of the blend_input_share mix (marts.self_host_cost.usd_per_blended_mtok), input tokens at prefill speed and output tokens at decode speed.
--   implied_gross_margin: implied_gross_margin(api_usd_per_mtok, self_host_usd_per_blended_mtok): the share of the price left after the compute; negative when the price is below the cost. Prefill and decode are costed as taking turns on the GPUs, so within the roofline estimate this is the low end.
--   implied_gross_margin_prefill_free: implied_gross_margin(api_usd_per_mtok, self_host_usd_per_mtok x (1 - blend_input_share)): the same with input tokens free, as if prefill ran entirely in the compute a memory-bound decode leaves idle. The high end: the margin lies between the two.
with api_prices as (
    select
        t.model, t.size_class, p.source as api_source, p.provider as api_provider,
        p.model as api_price_model,
        p.input_usd_per_mtok::double as api_input_usd_per_mtok,
        p.output_usd_per_mtok::double as api_output_usd_per_mtok,
        blended_price(p.input_usd_per_mtok, p.output_usd_per_mtok, a.blend_input_share) as api_usd_per_mtok
    from seeds.open_weights_twins t
    join marts.token_prices_current p on p.canonical_model = t.model
    left join seeds.source_precedence s on s.source = p.source
    cross join meta.assumptions a
    where p.tier = 'base' and p.service_tier = 'standard' and not p.off_peak
      and p.input_usd_per_mtok > 0 and p.output_usd_per_mtok > 0
    qualify row_number() over (
        partition by t.model, p.provider
        order by s.precedence nulls last, api_usd_per_mtok, p.model
    ) = 1
),
floor_cost as (
    select *
    from marts.self_host_cost
    where pricing_type not in ('spot', 'marketplace')
    qualify row_number() over (
        partition by size_class, dtype, utilization
        order by usd_per_blended_mtok, accelerator, provider, instance_type, region, source
    ) = 1
)
select
    c.assumption_set_id, p.model, p.size_class, p.api_source, p.api_provider, p.api_price_model,
    p.api_input_usd_per_mtok, p.api_output_usd_per_mtok, p.api_usd_per_mtok,
    c.dtype, c.utilization, c.accelerator, c.provider as cost_provider, c.pricing_type as cost_pricing_type,
    c.instance_type, c.gpus, c.usd_per_mtok as self_host_usd_per_mtok,
    c.usd_per_blended_mtok as self_host_usd_per_blended_mtok,
    implied_gross_margin(p.api_usd_per_mtok, c.usd_per_blended_mtok) as implied_gross_margin,
    implied_gross_margin(p.api_usd_per_mtok, c.usd_per_mtok * (1 - a.blend_input_share))
        as implied_gross_margin_prefill_free
from api_prices p
join floor_cost c on c.size_class = p.size_class
cross join meta.assumptions a
