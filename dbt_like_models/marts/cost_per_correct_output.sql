-- description: What one correct answer costs per model and task: list price, batch price and a fully cached prompt, from the current eval results (intermediate.int_eval_runs) and each model's first-party list price of record (intermediate.int_token_price_of_record). cost_per_correct = cost_per_attempt / pass_rate (independent attempts, verified answers); a pass rate of 0 gives no finite cost (null).
-- materialized: table
-- grain: eval_source, model, task, price_mode
-- tests:
--   not_null(model, canonical_model, task, eval_source, as_of, price_mode, pass_rate, input_tokens, output_tokens, cached_input_tokens, price_source, price_provider, input_usd_per_mtok, output_usd_per_mtok, cost_per_attempt_usd, rank_in_task)
--   accepted_values(price_mode: list, batch, cached)
--   accepted_values(tokens_basis: measured, assumed, derived_from_cost)
--   range(pass_rate: 0..1)
--   range(cost_per_attempt_usd: 0..)
--   range(rank_in_task: 1..)
-- columns:
--   model: The model id as the eval source writes it.
--   canonical_model: The model across sources; prices are matched on it.
--   task: The task or benchmark.
--   eval_source: Who measured the pass rate.
--   as_of: The day the mart was computed; prices are those in effect that day (or the last known price of a retired model, see price_since).
--   price_mode: list (input and output at list price, measured cached tokens at the cache price), batch (batch API prices), cached (every input token read from the prompt cache: the best case).
--   pass_rate: Share of attempts judged correct.
--   input_tokens: Mean input tokens per attempt.
--   output_tokens: Mean output tokens per attempt.
--   cached_input_tokens: Input tokens per attempt billed at the cache-read price in this price mode.
--   tokens_basis: measured; assumed when the eval source published no token counts; derived_from_cost when it published only the run's cost (tokens from the prices of the run's date, intermediate.int_eval_runs).
--   price_source: Source of the model's first-party list price of record (intermediate.int_token_price_of_record, docs/methodology.md "The price of record").
--   price_provider: Provider whose price is used: the model's creator (first-party list price).
--   price_since: Date the price used took effect; null when before the source's first dated change.
--   input_usd_per_mtok: Input price used, USD per million tokens.
--   output_usd_per_mtok: Output price used, USD per million tokens.
--   cost_per_attempt_usd: cost_per_request(input, output, input price, output price, cached, cache price), USD.
--   cost_per_correct_usd: cost_per_correct(cost_per_attempt_usd, pass_rate), USD; null when pass_rate is 0.
--   rank_in_task: 1 = cheapest correct output for the task within the price mode.
with evals as (
    -- Each key's current run, with its tokens (derived from a published cost where that is all there is).
    select * from intermediate.int_eval_runs where current and mean_input_tokens is not null
),
prices as (
    -- The price of record on the build date, or a retired model's last one (no period in effect: the one
    -- that ended last).
    select *
    from intermediate.int_token_price_of_record
    where in_effect(valid_from, valid_to, build_date()) or valid_to <= build_date()
    qualify row_number() over (partition by canonical_model order by valid_to desc nulls first) = 1
),
modes as (
    select e.*, p.source as price_source, p.provider as price_provider, p.valid_from as price_since,
           m.price_mode,
           case m.price_mode when 'batch' then p.batch_input_usd_per_mtok else p.input_usd_per_mtok end as in_price,
           case m.price_mode when 'batch' then p.batch_output_usd_per_mtok else p.output_usd_per_mtok end as out_price,
           case m.price_mode
               when 'list' then coalesce(e.mean_cached_input_tokens, 0)
               when 'cached' then e.mean_input_tokens
               else 0 end as cached_tokens,
           p.cache_read_usd_per_mtok
    from evals e
    join prices p on p.canonical_model = e.canonical_model
    cross join (values ('list'), ('batch'), ('cached')) m(price_mode)
)
select
    model, canonical_model, task, source as eval_source, build_date() as as_of, price_mode, pass_rate,
    mean_input_tokens as input_tokens, mean_output_tokens as output_tokens,
    cached_tokens as cached_input_tokens, tokens_basis,
    price_source, price_provider, price_since,
    in_price as input_usd_per_mtok, out_price as output_usd_per_mtok,
    cost_per_request(mean_input_tokens, mean_output_tokens, in_price, out_price,
                     cached_tokens, cache_read_usd_per_mtok) as cost_per_attempt_usd,
    cost_per_correct(cost_per_attempt_usd, pass_rate) as cost_per_correct_usd,
    rank() over (partition by task, price_mode order by cost_per_correct_usd nulls last) as rank_in_task
from modes
where in_price is not null and out_price is not null
  and (price_mode <> 'cached' or cache_read_usd_per_mtok is not null)
