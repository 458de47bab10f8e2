-- description: Model ids in token prices and eval results that map to no canonical model: add a rule or an alias (sources/catalog/model_aliases.csv) to link them across sources. Nothing is dropped; their rows stay in history with canonical_model null.
-- materialized: table
-- grain: dataset, source, provider, model
-- tests:
--   not_null(dataset, source, provider, model, last_seen_at)
--   accepted_values(dataset: token_prices, eval_results)
-- columns:
--   dataset: token_prices or eval_results.
--   source: Source that carries the id.
--   provider: Provider (token prices) or '' (eval results).
--   model: The model id as the source writes it.
--   last_seen_at: When a payload last carried it.
select 'token_prices' as dataset, source, provider, model, max(last_seen_at) as last_seen_at
from history.token_prices
where canonical_model is null
group by all
union all
select 'eval_results', source, '', model, max(last_seen_at)
from history.eval_results
where canonical_model is null
group by all
