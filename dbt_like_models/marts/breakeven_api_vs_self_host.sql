-- description: API or self-host, month by month: for each model-size class, reference API model (meta.size_classes.reference_api_models, at its creator's current list price blended 3:1), accelerator (its cheapest current on-demand offer that can hold the model), weight precision, utilization and monthly token volume in the grid, what the API and self-hosting cost per month, and the volume where they cross. Self-hosting is costed per token of the same input:output mix as the API price (blended_tokens_per_second), so a replica's monthly capacity counts input and output tokens. A reference model without a current first-party price has no rows. See docs/methodology.md, "Breakeven marts".
-- materialized: table
-- grain: size_class, api_model, accelerator, dtype, utilization, monthly_tokens
-- tests:
--   not_null(assumption_set_id, size_class, model_size_b, api_model, api_model_rank, api_price_source, api_price_provider, api_price_model, api_usd_per_mtok, accelerator, source, provider, pricing_type, instance_type, region, usd_per_gpu_hour, dtype, gpus, billed_gpus, tokens_per_second, blended_tokens_per_second, throughput_basis, utilization, replica_monthly_usd, monthly_tokens, api_monthly_usd, self_host_monthly_usd, self_host_cheaper)
--   accepted_values(pricing_type: on_demand)
--   accepted_values(api_price_source: genai_prices, curated, litellm, openrouter)
--   accepted_values(throughput_basis: roofline, measured)
--   range(api_model_rank: 1..)
--   range(gpus: 1..64)
--   range(utilization: 0..1)
--   relationships(accelerator -> marts.self_host_cost.accelerator)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) these numbers were computed with.
--   size_class: Model-size class (meta.size_classes).
--   model_size_b: Parameters of the size class, billions.
--   api_model: Reference API model, canonical id.
--   api_model_rank: Position of api_model in the class's reference_api_models (1 = first).
--   api_price_source: Source of the API price: the source of the model's price of record (marts.headline_prices, docs/methodology.md "The price of record").
--   api_price_provider: Who sells the tokens: the model's creator (first-party list price).
--   api_price_model: The model id as the source writes it, of the price of record.
--   api_input_usd_per_mtok: API list price per million input tokens.
--   api_output_usd_per_mtok: API list price per million output tokens.
--   api_usd_per_mtok: blended_price(input, output, blend_input_share): the API price of a million tokens of the assumed mix.
--   accelerator: Canonical accelerator id.
--   source: Upstream of the offer's rate.
--   provider: Provider of the cheapest current on-demand offer for this accelerator that can hold the model.
--   pricing_type: Always on_demand: a month-to-month comparison should not assume a term commitment.
--   instance_type: Instance, SKU or offer id.
--   region: Region of the offer; '' when not regional.
--   usd_per_gpu_hour: The offer's price per GPU-hour.
--   dtype: Weight precision of the self-hosted deployment.
--   gpus: GPUs per replica, a valid tensor-parallel degree (marts.self_host_cost).
--   billed_gpus: GPUs paid for per replica, whole instances (marts.self_host_cost).
--   tokens_per_second: Output (decode) tokens per second of one replica while busy (marts.self_host_cost).
--   blended_tokens_per_second: Tokens per second of the blend_input_share mix, one replica while busy (marts.self_host_cost): the throughput every monthly figure below uses.
--   throughput_basis: roofline or measured, as in marts.self_host_cost.
--   utilization: Highest sustained share of paid hours a replica serves; sets a replica's monthly capacity.
--   self_host_usd_per_mtok: Self-hosted cost per million output tokens with every replica full (marts.self_host_cost.usd_per_mtok); for reference, not compared.
--   self_host_usd_per_blended_mtok: Self-hosted cost per million tokens of the mix with every replica full (marts.self_host_cost.usd_per_blended_mtok): the figure comparable with api_usd_per_mtok.
--   replica_monthly_usd: One replica all month: self_host_monthly_usd(0, usd_per_gpu_hour x billed_gpus, blended_tokens_per_second, utilization, hours_per_month).
--   monthly_tokens: Monthly token volume, input and output (assumption grid).
--   api_monthly_usd: api_monthly_usd(monthly_tokens, api_usd_per_mtok).
--   self_host_monthly_usd: self_host_monthly_usd(monthly_tokens, usd_per_gpu_hour x billed_gpus, blended_tokens_per_second, utilization, hours_per_month): whole replicas, each paid all month.
--   self_host_cheaper: True when self_host_monthly_usd < api_monthly_usd at this volume.
--   breakeven_monthly_tokens: The crossover volume: breakeven_monthly_tokens(replica_monthly_usd, api_usd_per_mtok), where the API bill reaches one replica's cost. Null when it lies beyond one replica's capacity (self_host_usd_per_blended_mtok above the API price): then the API is cheaper at every volume at this utilization.
with api_prices as (
    -- The reference model's price is its price of record today (marts.headline_prices): first party,
    -- base tier, standard service, chosen by the one rule in intermediate.int_token_price_of_record.
    select
        r.size_class, r.api_model, r.api_model_rank,
        p.source as api_price_source, p.provider as api_price_provider, p.model as api_price_model,
        p.input_usd_per_mtok as api_input_usd_per_mtok, p.output_usd_per_mtok as api_output_usd_per_mtok,
        p.blended_usd_per_mtok as api_usd_per_mtok
    from (
        select c.size_class, m.api_model, m.api_model_rank
        from meta.size_classes c,
             unnest(c.reference_api_models) with ordinality as m(api_model, api_model_rank)
    ) r
    join marts.headline_prices p on p.canonical_model = r.api_model
),
offers as (
    -- Per accelerator, the on-demand offer with the cheapest replica of this model and precision (whole
    -- instances paid: a cheaper GPU-hour on an instance that cannot host the model does not count).
    select *
    from marts.self_host_cost
    where pricing_type = 'on_demand'
    qualify dense_rank() over (
        partition by size_class, dtype, accelerator
        order by deployment_usd_per_hour, provider, instance_type, region, source
    ) = 1
)
select
    o.assumption_set_id, o.size_class, o.model_size_b,
    p.api_model, p.api_model_rank, p.api_price_source, p.api_price_provider, p.api_price_model,
    p.api_input_usd_per_mtok, p.api_output_usd_per_mtok, p.api_usd_per_mtok,
    o.accelerator, o.source, o.provider, o.pricing_type, o.instance_type, o.region, o.usd_per_gpu_hour,
    o.dtype, o.gpus, o.billed_gpus, o.tokens_per_second, o.blended_tokens_per_second, o.throughput_basis, o.utilization,
    o.usd_per_mtok as self_host_usd_per_mtok,
    o.usd_per_blended_mtok as self_host_usd_per_blended_mtok,
    -- The API price covers the blended mix, so the replica's capacity must count the same tokens.
    self_host_monthly_usd(
        0, o.deployment_usd_per_hour, o.blended_tokens_per_second, o.utilization, a.hours_per_month
    ) as replica_monthly_usd,
    v.monthly_tokens,
    api_monthly_usd(v.monthly_tokens, p.api_usd_per_mtok) as api_monthly_usd,
    self_host_monthly_usd(
        v.monthly_tokens, o.deployment_usd_per_hour, o.blended_tokens_per_second, o.utilization,
        a.hours_per_month
    ) as self_host_monthly_usd,
    self_host_monthly_usd < api_monthly_usd as self_host_cheaper,
    -- Within one replica's capacity the self-hosted bill is flat, so the API bill crosses it there only
    -- if the API price is at least the full-replica cost per token.
    case when p.api_usd_per_mtok >= o.usd_per_blended_mtok
        then breakeven_monthly_tokens(replica_monthly_usd, p.api_usd_per_mtok)
    end as breakeven_monthly_tokens
from offers o
join api_prices p on p.size_class = o.size_class
cross join meta.assumptions a
cross join (select unnest(monthly_token_grid) as monthly_tokens from meta.assumptions) v
