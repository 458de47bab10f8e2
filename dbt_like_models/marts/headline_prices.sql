-- description: The headline price of every canonical model on the build date: its first-party list price of record (intermediate.int_token_price_of_record, docs/methodology.md "The price of record"), with its rank by blended price among its creator's text models. The CLI's refresh summary and the report read this; a model with no first-party price is absent.
-- materialized: table
-- grain: canonical_model
-- tests:
--   not_null(as_of, canonical_model, creator, model_tier, text_generation, source, provider, model, input_usd_per_mtok, output_usd_per_mtok, blended_usd_per_mtok, start_basis)
--   accepted_values(model_tier: flagship, mid, small)
--   range(blended_usd_per_mtok: 0..)
--   range(rank_in_creator: 1..)
-- columns:
--   as_of: The build date the prices are in effect on.
--   canonical_model: The model, canonical id.
--   creator: The model's creator.
--   model_tier: flagship, mid or small (docs/methodology.md, "Tiers").
--   text_generation: False for speech, image, realtime, embedding and similar ids.
--   source: Source of the price of record.
--   provider: The creator's provider id in that source.
--   model: The model id as the source writes it.
--   input_usd_per_mtok: List price per million input tokens.
--   output_usd_per_mtok: List price per million output tokens.
--   blended_usd_per_mtok: blended_price(input, output, blend_input_share).
--   price_since: Date this price of record took effect; null when in effect since before any dated version.
--   start_basis: declared, observed or unknown, as in intermediate.int_token_price_of_record.
--   rank_in_creator: 1 = the creator's cheapest text model by blended price (ties by id); null for other modalities.
--   creator_text_models: Text models the creator has a price of record for on as_of.
with current_prices as (
    select * from intermediate.int_token_price_of_record where in_effect(valid_from, valid_to, build_date())
)
select
    build_date() as as_of, canonical_model, creator, model_tier, text_generation, source, provider, model,
    input_usd_per_mtok, output_usd_per_mtok, blended_usd_per_mtok, valid_from as price_since, start_basis,
    case when text_generation then row_number() over (
        partition by creator, text_generation order by blended_usd_per_mtok, canonical_model
    ) end as rank_in_creator,
    count(*) filter (where text_generation) over (partition by creator) as creator_text_models
from current_prices
