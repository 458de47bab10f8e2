-- model_price_history(canonical): every price version of one canonical model across sources, providers
-- and tiers, oldest first, with the 3:1 blended price. Example:
--   select source, provider, model, valid_from, valid_to, input_usd_per_mtok, output_usd_per_mtok
--   from model_price_history('openai/gpt-4o') where provider = 'openai' and tier = 'base';
create or replace macro model_price_history(canonical) as table
select
    source, provider, model, tier, service_tier, off_peak, mode,
    input_usd_per_mtok, output_usd_per_mtok,
    blended_price(input_usd_per_mtok, output_usd_per_mtok) as blended_usd_per_mtok,
    cache_read_usd_per_mtok, cache_write_usd_per_mtok, batch_input_usd_per_mtok, batch_output_usd_per_mtok,
    valid_from, valid_to, first_seen_at, last_seen_at
from history.token_prices
where canonical_model = canonical
order by provider, source, model, tier, service_tier, off_peak, valid_from nulls first
