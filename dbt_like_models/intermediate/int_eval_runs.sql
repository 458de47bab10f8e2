-- description: Every eval run in history (each version of history.eval_results is one run: a re-run under the same key replaces it from its own date) with its tokens per attempt, the one place a run's tokens are decided. Measured and assumed tokens are the source's; a run that published only its cost (tokens_basis derived_from_cost) gets tokens_from_cost(cost per attempt, the model's first-party list prices of record in force on the run's date, derived_tokens_input_share of meta.assumptions), split input:output by that share (docs/methodology.md, "Tokens derived from a published cost"). A model's first price of record whose start is unknown counts as in force on an earlier run's date; otherwise the tokens stay null when no price of record was in force on the run's date.
-- materialized: table
-- grain: source, model, task, run_date
-- tests:
--   not_null(source, model, task, pass_rate, tokens_basis, current)
--   accepted_values(tokens_basis: measured, assumed, derived_from_cost)
--   range(pass_rate: 0..1)
--   range(mean_input_tokens: 0..)
--   range(mean_output_tokens: 0..)
-- columns:
--   source: Who measured the pass rate (the eval source).
--   model: The model id as the eval source writes it.
--   canonical_model: The model across sources; null when unmapped (marts.unmapped_models).
--   task: The task or benchmark.
--   run_date: The day of the run (valid_from of its history version); null when the source gave none and history has no start for it.
--   current: True for the run the source lists now; false for a run a later one replaced.
--   pass_rate: Share of attempts judged correct.
--   n: Attempts the pass rate is measured on.
--   tokens_basis: measured, assumed, or derived_from_cost (see the description).
--   mean_input_tokens: Input tokens per attempt (derived: input share x tokens_from_cost).
--   mean_output_tokens: Output tokens per attempt (derived: the rest).
--   mean_cached_input_tokens: Input tokens per attempt read from the prompt cache; null = none or not published.
--   published_cost_per_attempt_usd: What one attempt cost as the source published it, at the prices of the run's date; null when not published.
--   derived_at_input_usd_per_mtok: For derived tokens, the input list price of record on the run's date the cost was divided by.
--   derived_at_output_usd_per_mtok: For derived tokens, the output list price of record on the run's date.
--   source_url: Where the pass rate can be checked.
with runs as (
    select *, valid_to is null as current from history.eval_results
),
prices as (
    select *, row_number() over (partition by canonical_model order by valid_from nulls first) = 1 as first_period
    from intermediate.int_token_price_of_record
),
priced as (
    -- A model's first price of record whose start is unknown (first seen after the run) was, for all we
    -- know, in force on the run's date too; a later or dated price never is.
    select r.*, p.input_usd_per_mtok as run_in_price, p.output_usd_per_mtok as run_out_price
    from runs r
    left join prices p
      on r.tokens_basis = 'derived_from_cost' and p.canonical_model = r.canonical_model
     and (in_effect(p.valid_from, p.valid_to, r.valid_from)
          or (p.first_period and p.start_basis = 'unknown' and r.valid_from < p.valid_from))
),
derived as (
    select *, tokens_from_cost(cost_per_attempt_usd, run_in_price, run_out_price, a.derived_tokens_input_share)
              as derived_tokens,
           a.derived_tokens_input_share as share
    from priced cross join meta.assumptions a
)
select
    source, model, canonical_model, task, valid_from as run_date, current, pass_rate::double as pass_rate, n,
    tokens_basis,
    case when tokens_basis = 'derived_from_cost' then derived_tokens * share
         else mean_input_tokens::double end as mean_input_tokens,
    case when tokens_basis = 'derived_from_cost' then derived_tokens * (1 - share)
         else mean_output_tokens::double end as mean_output_tokens,
    mean_cached_input_tokens::double as mean_cached_input_tokens,
    cost_per_attempt_usd::double as published_cost_per_attempt_usd,
    case when tokens_basis = 'derived_from_cost' then run_in_price end as derived_at_input_usd_per_mtok,
    case when tokens_basis = 'derived_from_cost' then run_out_price end as derived_at_output_usd_per_mtok,
    source_url
from derived
