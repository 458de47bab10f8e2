-- description: Where two sources disagree on the same offer: same canonical model, provider, context tier, service tier and off-peak window, validity periods that overlap, and a list price that differs by more than 1% (relative) and 0.000001 USD. One row per pair of source versions (each named by its model id: one source may list a model under several ids) and per differing price field, with both values and the period they overlap.
-- materialized: table
-- grain: canonical_model, provider, tier, service_tier, off_peak, field, source_a, model_a, source_b, model_b, overlap_from
-- tests:
--   not_null(canonical_model, provider, tier, service_tier, off_peak, field, source_a, model_a, value_a, source_b, model_b, value_b)
--   accepted_values(field: input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok)
-- columns:
--   canonical_model: The model both sources price.
--   provider: The seller both sources describe.
--   tier: Context tier.
--   service_tier: Service tier.
--   off_peak: Off-peak window flag.
--   field: The price column that differs (input_usd_per_mtok, output_usd_per_mtok or cache_read_usd_per_mtok).
--   source_a: The first source (alphabetically).
--   model_a: The model id source_a writes.
--   value_a: Its price, USD per million tokens.
--   source_b: The second source.
--   model_b: The model id source_b writes.
--   value_b: Its price, USD per million tokens.
--   pct_diff: (value_b - value_a) / value_a * 100.
--   overlap_from: First day both versions apply; null = before either source's first dated change.
--   overlap_to: Day (exclusive) one of them stops applying; null = both still current.
with p as (
    select source, model, canonical_model, provider, tier, service_tier, off_peak,
           coalesce(valid_from, date '0001-01-01') as vf, coalesce(valid_to, date '9999-12-31') as vt,
           input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok
    from history.token_prices
    where canonical_model is not null
),
pairs as (
    select a.canonical_model, a.provider, a.tier, a.service_tier, a.off_peak,
           a.source as source_a, a.model as model_a, b.source as source_b, b.model as model_b,
           greatest(a.vf, b.vf) as o_from, least(a.vt, b.vt) as o_to,
           [a.input_usd_per_mtok, a.output_usd_per_mtok, a.cache_read_usd_per_mtok] as va,
           [b.input_usd_per_mtok, b.output_usd_per_mtok, b.cache_read_usd_per_mtok] as vb
    from p a join p b
      on a.canonical_model = b.canonical_model and a.provider = b.provider and a.tier = b.tier
     and a.service_tier = b.service_tier and a.off_peak = b.off_peak and a.source < b.source
     and a.vf < b.vt and b.vf < a.vt
),
fields as (
    select *, unnest(['input_usd_per_mtok', 'output_usd_per_mtok', 'cache_read_usd_per_mtok']) as field,
           unnest(va) as value_a, unnest(vb) as value_b
    from pairs
)
select canonical_model, provider, tier, service_tier, off_peak, field,
       source_a, model_a, value_a, source_b, model_b, value_b,
       round((value_b - value_a) / nullif(value_a, 0) * 100, 2) as pct_diff,
       nullif(o_from, date '0001-01-01') as overlap_from,
       nullif(o_to, date '9999-12-31') as overlap_to
from fields
where value_a is not null and value_b is not null
  and abs(value_b - value_a) > 0.000001
  and abs(value_b - value_a) > 0.01 * greatest(abs(value_a), abs(value_b))
