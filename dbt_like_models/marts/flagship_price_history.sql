-- description: The list-price history of the flagship models, the report's price chart: every period of each flagship's first-party price of record (intermediate.int_token_price_of_record). Flagships are chosen from the data (docs/methodology.md, "Flagship models"): text models of the flagship tier with a known launch price, for the creators with the most such models (up to five), plus each model of seeds.model_lineage so successor chains (GPT-4 -> GPT-4 Turbo -> GPT-4o -> GPT-4.1) show whole.
-- materialized: table
-- grain: canonical_model, valid_from
-- tests:
--   not_null(canonical_model, creator, model_tier, source, model, valid_from, input_usd_per_mtok, output_usd_per_mtok, blended_usd_per_mtok, launch)
--   range(blended_usd_per_mtok: 0..)
-- columns:
--   canonical_model: The model, canonical id.
--   creator: The model's creator.
--   model_tier: flagship, mid or small: lineage models may be of any tier.
--   source: Source of the period's price of record.
--   model: The model id as the source writes it.
--   valid_from: First day of the period.
--   valid_to: Day (exclusive) the period ends; null = current.
--   input_usd_per_mtok: List price per million input tokens.
--   output_usd_per_mtok: List price per million output tokens.
--   blended_usd_per_mtok: blended_price(input, output, blend_input_share).
--   launch: The model's launch (intermediate.int_token_price_of_record).
with known as (
    -- Only models with a known launch, and their periods from it: a line starts at launch.
    select *
    from intermediate.int_token_price_of_record
    where launch is not null and valid_from is not null and valid_from <= build_date()
),
flagship_creators as (
    select creator
    from known
    where model_tier = 'flagship' and text_generation
    group by creator
    order by count(distinct canonical_model) desc, creator
    limit 5
),
chosen as (
    select canonical_model from known
    where model_tier = 'flagship' and text_generation and creator in (select creator from flagship_creators)
    union
    select predecessor from seeds.model_lineage
    union
    select successor from seeds.model_lineage
)
select canonical_model, creator, model_tier, source, model, valid_from, valid_to,
       input_usd_per_mtok, output_usd_per_mtok, blended_usd_per_mtok, launch
from known
where canonical_model in (select canonical_model from chosen)
