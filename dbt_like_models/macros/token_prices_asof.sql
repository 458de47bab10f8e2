-- token_prices_asof(d): every token price in effect on date d, one row per source, provider,
-- model, tier, service tier and off-peak window. Example:
--   select input_usd_per_mtok, output_usd_per_mtok from token_prices_asof(date '2025-06-01')
--   where canonical_model = 'openai/o3' and source = 'genai_prices' and tier = 'base';
create or replace macro token_prices_asof(d) as table
select *
from history.token_prices
where in_effect(valid_from, valid_to, d)
