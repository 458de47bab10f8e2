-- description: What each eval run would cost per correct answer on each date since it ran: the run's tokens per attempt (intermediate.int_eval_runs) re-priced at every change of its model's first-party list price of record (intermediate.int_token_price_of_record), from the price in force on the run's date to today's. One row per run and price period; the row with valid_to null is "what it would cost today". List prices, cached input tokens (where measured) at the cache price. cost_per_correct = cost_per_request(tokens, prices) / pass_rate (docs/methodology.md, "Cost per correct output over time").
-- materialized: table
-- grain: eval_source, model, task, run_date, valid_from
-- tests:
--   not_null(model, canonical_model, task, eval_source, pass_rate, tokens_basis, input_tokens, output_tokens, input_usd_per_mtok, output_usd_per_mtok, cost_per_attempt_usd, run_current, price_source)
--   accepted_values(tokens_basis: measured, assumed, derived_from_cost)
--   range(pass_rate: 0..1)
--   range(cost_per_attempt_usd: 0..)
-- columns:
--   eval_source: Who measured the pass rate.
--   model: The model id as the eval source writes it.
--   canonical_model: The model across sources; prices are matched on it.
--   task: The task or benchmark.
--   run_date: The day of the run.
--   run_current: True for the run the eval source lists now; false for one a later run replaced.
--   pass_rate: Share of attempts judged correct.
--   tokens_basis: measured, assumed or derived_from_cost (intermediate.int_eval_runs).
--   input_tokens: Input tokens per attempt.
--   output_tokens: Output tokens per attempt.
--   valid_from: First day these prices applied to the run: the later of the run's date and the price's start.
--   valid_to: Day (exclusive) the list prices changed; null = the prices of record today. Consecutive prices of record with the same prices (another source taking over) are one period.
--   price_source: Source of the price of record at the period's end.
--   input_usd_per_mtok: Input list price, USD per million tokens.
--   output_usd_per_mtok: Output list price, USD per million tokens.
--   cost_per_attempt_usd: cost_per_request(input, output, prices, cached, cache price), USD.
--   cost_per_correct_usd: cost_per_correct(cost_per_attempt_usd, pass_rate), USD; null when pass_rate is 0.
--   published_cost_per_correct_usd: The run's published cost per attempt / pass_rate; null when not published.
--   cost_per_correct_at_run_usd: cost_per_correct_usd at the prices in force on the run's date (the run's first period).
--   change_since_run: cost_per_correct_usd / cost_per_correct_at_run_usd - 1: -0.8 is 80% cheaper than when the run was made.
with runs as (
    select * from intermediate.int_eval_runs where mean_input_tokens is not null and canonical_model is not null
),
periods as (
    select r.*, p.source as price_source, p.input_usd_per_mtok as in_price, p.output_usd_per_mtok as out_price,
           p.cache_read_usd_per_mtok,
           greatest(coalesce(p.valid_from, date '0001-01-01'), coalesce(r.run_date, date '0001-01-01')) as vf,
           p.valid_to
    from runs r
    join intermediate.int_token_price_of_record p
      on p.canonical_model = r.canonical_model
     and coalesce(p.valid_to, date '9999-12-31') > coalesce(r.run_date, date '0001-01-01')
),
changes as (
    -- A new price of record with the same prices (another source taking over) is no price change.
    select *,
           (in_price, out_price, cache_read_usd_per_mtok) is distinct from lag((in_price, out_price, cache_read_usd_per_mtok))
               over (partition by source, model, task, run_date order by vf) as changed
    from periods
),
islands as (
    select *, sum(changed::int) over (partition by source, model, task, run_date order by vf) as island
    from changes
),
merged as (
    select * exclude (valid_to, price_source),
           last_value(valid_to) over i as valid_to,
           last_value(price_source) over i as price_source
    from islands
    window i as (partition by source, model, task, run_date, island order by vf
                 rows between unbounded preceding and unbounded following)
    qualify row_number() over (partition by source, model, task, run_date, island order by vf) = 1
),
costed as (
    select *,
           cost_per_request(mean_input_tokens, mean_output_tokens, in_price, out_price,
                            coalesce(mean_cached_input_tokens, 0), cache_read_usd_per_mtok) as attempt_usd
    from merged
)
select
    source as eval_source, model, canonical_model, task, run_date, current as run_current, pass_rate,
    tokens_basis, mean_input_tokens as input_tokens, mean_output_tokens as output_tokens,
    nullif(vf, date '0001-01-01') as valid_from, valid_to, price_source,
    in_price as input_usd_per_mtok, out_price as output_usd_per_mtok,
    attempt_usd as cost_per_attempt_usd,
    cost_per_correct(attempt_usd, pass_rate) as cost_per_correct_usd,
    cost_per_correct(published_cost_per_attempt_usd, pass_rate) as published_cost_per_correct_usd,
    first_value(cost_per_correct(attempt_usd, pass_rate)) over run as cost_per_correct_at_run_usd,
    cost_per_correct(attempt_usd, pass_rate) / nullif(cost_per_correct_at_run_usd, 0) - 1 as change_since_run
from costed
window run as (partition by source, model, task, run_date order by vf)
