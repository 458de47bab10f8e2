-- description: Buy or rent one GPU, on one basis for every accelerator: for each accelerator with a published launch price and TDP and a rent today, per pricing type (on_demand, spot, reserved_1y, reserved_3y, committed_<N>m), rent basis (the cheapest offer today, the median offer, the hyperscalers' list price) and utilization in the grid, the calendar months and hours of use after which owning beats renting (payback_months). Capex is a server share per GPU: the launch price plus the host's share (host_share_of_gpu_price), or the launch price alone where it already is a server share (server_share_priced). Owning costs power for the hours used and operations for every hour owned, scaled by the GPU's TDP; a pay-per-use rent (on demand, spot) is paid for the hours used, a reservation or commitment for every hour. See docs/methodology.md, "Breakeven marts".
-- materialized: table
-- grain: accelerator, pricing_type, rent_basis, utilization
-- tests:
--   not_null(assumption_set_id, accelerator, vendor, card_price_usd, capex_usd, capex_basis, tdp_w, power_usd_per_busy_hour, ops_usd_per_owned_hour, amortized_usd_per_hour, pricing_type, rent_basis, rent_usd_per_gpu_hour, n_offers, utilization, rented_share, rent_monthly_usd, own_opex_monthly_usd, pays_back_within_life)
--   accepted_values(rent_basis: cheapest, median, list)
--   accepted_values(capex_basis: server_share_published, gpu_plus_host_share)
--   range(n_offers: 1..)
--   range(utilization: 0..1)
--   range(rented_share: 0..1)
--   range(breakeven_hours: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) these numbers were computed with.
--   accelerator: Canonical accelerator id.
--   vendor: Accelerator vendor.
--   card_price_usd: The accelerator's launch_price_usd (intermediate.int_accelerator_spec_of_record).
--   capex_basis: server_share_published (the launch price already is a server share, server_share_priced) or gpu_plus_host_share (launch price x (1 + host_share_of_gpu_price)).
--   capex_usd: Purchase price of one GPU as a server share: host, networking ports and storage included.
--   capex_source: Where the launch price comes from (the spec's source_url); the host share's source is in docs/methodology.md.
--   tdp_w: Thermal design power of one GPU, watts.
--   power_kw: Wall power of one GPU's share of the server: tdp_w / 1000 x system_power_factor.
--   pue: Facility power / IT power (assumption).
--   usd_per_kwh: Electricity price (assumption).
--   power_usd_per_busy_hour: Electricity per hour the GPU works: own_opex_per_hour(power_kw, pue, usd_per_kwh, 0).
--   ops_usd_per_owned_hour: Operations per owned hour, busy or idle: ops_usd_per_gpu_hour x tdp_w / ops_reference_tdp_w.
--   depreciation_years: Straight-line life of owned hardware (assumption).
--   amortized_usd_per_hour: amortized_usd_per_hour(capex_usd, depreciation_years): the capex carried by every owned hour, busy or idle.
--   pricing_type: on_demand, spot, reserved_1y, reserved_3y or committed_<N>m (marts.gpu_rates_daily).
--   rent_basis: cheapest (lowest per-GPU rate today of that pricing type), median (median offer today) or list (median of aws, gcp and azure offers).
--   rent_usd_per_gpu_hour: Rent per GPU-hour on that basis (marts.gpu_rates_daily, today).
--   rent_provider: Provider of the cheapest offer (rent_basis cheapest); null for the other bases.
--   n_offers: Offers of that pricing type for the accelerator today.
--   utilization: Share of the hours in a month the GPU is used (assumption grid).
--   rented_share: Share of the month's hours paid for when renting: the utilization for on_demand and spot, 1 for a reservation or commitment (paid for every hour of its term).
--   rent_monthly_usd: rent_usd_per_gpu_hour x rented_share x hours_per_month.
--   own_opex_monthly_usd: Owning, capex aside: (power_usd_per_busy_hour x utilization + ops_usd_per_owned_hour) x hours_per_month.
--   breakeven_months: Calendar months until buying pays back: payback_months(capex_usd, rent_usd_per_gpu_hour, rented_share, power_usd_per_busy_hour, ops_usd_per_owned_hour, utilization, hours_per_month) = capex_usd / (rent_monthly_usd - own_opex_monthly_usd). Null when renting costs no more than running the owned GPU: owning never pays back.
--   breakeven_hours: Hours of use until buying pays back: breakeven_months x utilization x hours_per_month.
--   pays_back_within_life: True when breakeven_months is within depreciation_years x 12: the GPU earns its price back before it is written off. False when it does not or never does.
with rents as (
    select d.accelerator, d.pricing_type, b.rent_basis, b.rent_usd_per_gpu_hour::double as rent_usd_per_gpu_hour,
           b.rent_provider, d.n_offers
    from marts.gpu_rates_daily d,
         lateral (values ('cheapest', d.cheapest_usd_per_gpu_hour, d.cheapest_provider),
                         ('median', d.median_usd_per_gpu_hour, null),
                         ('list', d.list_usd_per_gpu_hour, null))
             b(rent_basis, rent_usd_per_gpu_hour, rent_provider)
    where d.day = build_date() and b.rent_usd_per_gpu_hour is not null
      and (d.pricing_type in ('on_demand', 'spot', 'reserved_1y', 'reserved_3y')
           or regexp_matches(d.pricing_type, '^committed_[1-9][0-9]*m$'))
),
owned as (
    select
        a.assumption_set_id, c.accelerator, c.vendor, c.source_url as capex_source,
        c.launch_price_usd::double as card_price_usd,
        case when list_contains(a.server_share_priced, c.accelerator) then 'server_share_published'
             else 'gpu_plus_host_share' end as capex_basis,
        case when capex_basis = 'server_share_published' then card_price_usd
             else card_price_usd * (1 + a.host_share_of_gpu_price) end as capex_usd,
        c.tdp_w::double as tdp_w,
        c.tdp_w::double * a.system_power_factor / 1000 as power_kw,
        a.pue, a.usd_per_kwh,
        own_opex_per_hour(power_kw, a.pue, a.usd_per_kwh, 0) as power_usd_per_busy_hour,
        -- Operations grow with the power a GPU puts in the rack, not with how busy it is.
        a.ops_usd_per_gpu_hour * c.tdp_w::double / a.ops_reference_tdp_w as ops_usd_per_owned_hour,
        a.depreciation_years, a.hours_per_month,
        amortized_usd_per_hour(capex_usd, a.depreciation_years) as amortized_usd_per_hour
    from intermediate.int_accelerator_spec_of_record c
    cross join meta.assumptions a
    where c.launch_price_usd > 0 and c.tdp_w > 0
),
priced as (
    select
        o.*, r.pricing_type, r.rent_basis, r.rent_usd_per_gpu_hour, r.rent_provider, r.n_offers, u.utilization,
        -- A reservation or commitment is paid for every hour of its term, used or not.
        case when r.pricing_type in ('on_demand', 'spot') then u.utilization else 1.0 end as rented_share
    from owned o
    join rents r on r.accelerator = o.accelerator
    cross join (select unnest(utilization_grid) as utilization from meta.assumptions) u
)
select
    assumption_set_id, accelerator, vendor, card_price_usd, capex_basis, capex_usd, capex_source, tdp_w, power_kw,
    pue, usd_per_kwh, power_usd_per_busy_hour, ops_usd_per_owned_hour, depreciation_years, amortized_usd_per_hour,
    pricing_type, rent_basis, rent_usd_per_gpu_hour, rent_provider, n_offers, utilization, rented_share,
    rent_usd_per_gpu_hour * rented_share * hours_per_month as rent_monthly_usd,
    (power_usd_per_busy_hour * utilization + ops_usd_per_owned_hour) * hours_per_month as own_opex_monthly_usd,
    payback_months(
        capex_usd, rent_usd_per_gpu_hour, rented_share, power_usd_per_busy_hour, ops_usd_per_owned_hour,
        utilization, hours_per_month
    ) as breakeven_months,
    breakeven_months * utilization * hours_per_month as breakeven_hours,
    coalesce(breakeven_months <= depreciation_years * 12, false) as pays_back_within_life
from priced
