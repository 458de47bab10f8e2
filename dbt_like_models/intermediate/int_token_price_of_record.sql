-- description: The first-party list price of record of every canonical model over time: one row per model and period in which one history version is the price of record. The rule, applied here only (docs/methodology.md, "The price of record"): first party (the seller is the model's creator, seeds.provider_creators), base context tier, standard service, no off-peak window, both list prices present, not a variant id (an id with ':' such as gpt-4o:extended is another offer); among the versions in effect, one whose start is known beats one whose start is unknown, then the latest start wins (a newer dated fact supersedes an older one), then the source precedence (seeds.source_precedence), then the creator's plain id, the cheaper blend and the id. No period starts before the model's launch (the earliest declared start of a first version), when one is known.
-- materialized: table
-- grain: canonical_model, valid_from
-- tests:
--   not_null(canonical_model, creator, name, source, provider, model, mode, start_basis, input_usd_per_mtok, output_usd_per_mtok, blended_usd_per_mtok, model_tier, text_generation)
--   accepted_values(start_basis: declared, observed, unknown)
--   accepted_values(model_tier: flagship, mid, small)
--   range(input_usd_per_mtok: 0..)
--   range(output_usd_per_mtok: 0..)
--   relationships(source -> seeds.source_precedence.source)
-- columns:
--   canonical_model: The model, canonical id (creator/name).
--   creator: The model's creator: the first segment of canonical_model.
--   name: The model's name: canonical_model without its creator.
--   source: Source of the version of record.
--   provider: Provider of the version of record (the creator, under the provider id its sources use).
--   model: The model id as the source writes it.
--   mode: Modality of the price (chat, embedding ...).
--   start_basis: How the period's start is known: declared (the source dates the price), observed (a refresh saw a key's price change on that day) or unknown (a key's first version, in effect since an unknown day: undated, or dated only by when costcurve first saw it).
--   input_usd_per_mtok: List price per million input tokens.
--   output_usd_per_mtok: List price per million output tokens.
--   cache_read_usd_per_mtok: Price per million cached input tokens read.
--   batch_input_usd_per_mtok: Batch API price per million input tokens.
--   batch_output_usd_per_mtok: Batch API price per million output tokens.
--   blended_usd_per_mtok: blended_price(input, output, blend_input_share of meta.assumptions).
--   model_tier: flagship, mid or small, from the model's name (docs/methodology.md, "Tiers").
--   text_generation: False for speech, image, realtime, embedding, search and fine-tuned ids some labs list with per-token chat prices.
--   launch: The model's launch: the earliest declared start of a first version of any of its keys; null when unknown.
--   valid_from: First day of the period; null = since before any dated version of the model.
--   valid_to: Day (exclusive) the period ends; null = still the price of record.
with versions as (
    select p.*,
           split_part(p.canonical_model, '/', 1) as creator,
           split_part(p.canonical_model, '/', 2) as name,
           row_number() over (
               partition by p.source, p.provider, p.model, p.tier, p.service_tier, p.off_peak
               order by coalesce(p.valid_from, date '0001-01-01')
           ) as version_no
    from history.token_prices p
    where p.canonical_model is not null
),
candidates as (
    select v.*, s.precedence,
           start_basis(v.valid_from, v.first_seen_at, v.version_no) as start_basis,
           coalesce(v.valid_from, date '0001-01-01') as vf,
           coalesce(v.valid_to, date '9999-12-31') as vt,
           blended_price(v.input_usd_per_mtok, v.output_usd_per_mtok, a.blend_input_share) as blended
    from versions v
    left join seeds.provider_creators c on c.provider = v.provider
    left join seeds.source_precedence s on s.source = v.source
    cross join meta.assumptions a
    where coalesce(c.creator, v.provider) = v.creator
      and v.tier = 'base' and v.service_tier = 'standard' and not v.off_peak
      and v.input_usd_per_mtok is not null and v.output_usd_per_mtok is not null
      and not contains(v.model, ':')
),
bounds as (
    select canonical_model, vf as b from candidates
    union
    select canonical_model, vt from candidates
),
launches as (
    -- A model's launch is the earliest declared start of a key's first version: an undated version says
    -- "before the first dated change", not that the model was sold before it existed.
    select canonical_model, min(vf) filter (where start_basis = 'declared' and version_no = 1) as launch
    from candidates
    group by canonical_model
),
segments as (
    select canonical_model, b as seg_from, lead(b) over (partition by canonical_model order by b) as seg_to
    from bounds
),
chosen as (
    select s.seg_from, s.seg_to, c.*
    from segments s
    join candidates c on c.canonical_model = s.canonical_model and c.vf <= s.seg_from and c.vt >= s.seg_to
    join launches l on l.canonical_model = s.canonical_model
    where s.seg_to is not null and s.seg_from >= coalesce(l.launch, date '0001-01-01')
    qualify row_number() over (
        partition by s.canonical_model, s.seg_from
        order by c.start_basis = 'unknown', c.vf desc, c.precedence nulls last,
                 c.model = c.name desc, c.blended, c.model
    ) = 1
),
keyed as (
    select *, concat_ws('|', source, provider, model, vf) as version_key from chosen
),
starts as (
    select *,
           version_key is distinct from lag(version_key) over w or seg_from <> lag(seg_to) over w as starts
    from keyed
    window w as (partition by canonical_model order by seg_from)
),
islands as (
    -- Consecutive segments held by one version are one period.
    select *, sum(starts::int) over (partition by canonical_model order by seg_from) as island
    from starts
),
periods as (
    select *,
           min(seg_from) over i as p_from,
           max(seg_to) over i as p_to
    from islands
    window i as (partition by canonical_model, island)
    qualify row_number() over (partition by canonical_model, island order by seg_from) = 1
)
select
    canonical_model, creator, name, source, provider, model, mode,
    -- A period that begins when another version's period ends starts on that version's dated end.
    case when p_from > vf then 'declared' else start_basis end as start_basis,
    input_usd_per_mtok::double as input_usd_per_mtok, output_usd_per_mtok::double as output_usd_per_mtok,
    cache_read_usd_per_mtok::double as cache_read_usd_per_mtok,
    batch_input_usd_per_mtok::double as batch_input_usd_per_mtok,
    batch_output_usd_per_mtok::double as batch_output_usd_per_mtok,
    blended as blended_usd_per_mtok,
    case
        when regexp_matches(name, '(^|[-.])(mini|nano|haiku|flash|lite|small|tiny|instant|air|micro)([-.]|$)')
            or starts_with(name, 'ministral')
            or try_cast(regexp_extract(name, '(^|-)(\d+(\.\d+)?)b(-|$)', 2) as double) < 20
            then 'small'
        when regexp_matches(name, '(^|[-.])(opus|pro|ultra|large|max|heavy)([-.]|$)')
            or regexp_matches(name, '^(o1|o3|gpt-4|gpt-4-32k|gpt-4\.5(-preview)?|gpt-5(\.\d+)?|grok-\d+(\.\d+)?)$')
            then 'flagship'
        else 'mid'
    end as model_tier,
    mode = 'chat' and not regexp_matches(
        name,
        '(^|[-.])(tts|transcribe|audio|realtime|image|embed|search|live|ocr|robotics|moderation)([-.]|$)'
        || '|computer-use|deep-research|[.:]ft'
    ) as text_generation,
    l.launch,
    nullif(p_from, date '0001-01-01') as valid_from,
    nullif(p_to, date '9999-12-31') as valid_to
from periods
join launches l using (canonical_model)
