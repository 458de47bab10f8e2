-- description: The token prices in effect today, one row per source, provider, model, context tier, service tier and off-peak window. Read this for "what does X cost now"; use token_prices_asof(date) for any other day.
-- materialized: table
-- grain: source, provider, model, tier, service_tier, off_peak
-- tests:
--   not_null(source, provider, model, tier, service_tier, off_peak, input_usd_per_mtok, currency, last_seen_at)
--   accepted_values(source: genai_prices, litellm, openrouter, curated)
--   accepted_values(currency: USD)
--   range(input_usd_per_mtok: 0..)
--   range(output_usd_per_mtok: 0..)
-- columns:
--   source: Upstream the price came from (genai_prices, litellm, openrouter, curated).
--   provider: Who sells the tokens.
--   model: The model id as the source writes it.
--   canonical_model: One id for the same model across sources and resellers; null when unmapped.
--   tier: Context tier: 'base', or the prompt-size threshold such as '>200k'.
--   service_tier: 'standard', or 'flex', 'priority', 'fast' ...
--   off_peak: True for a discounted time-of-day window.
--   mode: Modality the price is for; null where the source does not say (9 LiteLLM entries of 1.110.2).
--   input_usd_per_mtok: USD per million input tokens.
--   output_usd_per_mtok: USD per million output tokens.
--   cache_read_usd_per_mtok: USD per million cached input tokens read.
--   cache_write_usd_per_mtok: USD per million input tokens written to the cache.
--   batch_input_usd_per_mtok: USD per million input tokens through the batch API.
--   batch_output_usd_per_mtok: USD per million output tokens through the batch API.
--   blended_usd_per_mtok: 3:1 input:output blend of the list prices: blended_price(input, output), the core formula with its default share.
--   context_window: Maximum context length in tokens.
--   max_output_tokens: Maximum output tokens per request.
--   currency: ISO currency of the price columns.
--   price_since: Date this price took effect; null when it was in effect before the source's first dated change.
--   last_seen_at: When a payload last carried this price.
select
    source, provider, model, canonical_model, tier, service_tier, off_peak, mode,
    input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok,
    batch_input_usd_per_mtok, batch_output_usd_per_mtok,
    blended_price(input_usd_per_mtok, output_usd_per_mtok) as blended_usd_per_mtok,
    context_window, max_output_tokens, currency,
    valid_from as price_since, last_seen_at
from history.token_prices
where in_effect(valid_from, valid_to, build_date())
