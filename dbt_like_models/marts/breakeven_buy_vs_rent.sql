-- description: Buy or rent one GPU: for each accelerator with a published launch price and a current on-demand rental rate, per rent basis (the cheapest offer today, the median offer, the hyperscalers' list price) and utilization in the grid, the hours and calendar months of use after which owning the card beats renting it (breakeven_hours, breakeven_months). Capex is per GPU: the launch price (for datacenter parts the vendor's or analysts' per-GPU share of a server). Absent: accelerators without a launch price or TDP, and rent bases with no offer today. See docs/methodology.md, "Breakeven marts".
-- materialized: table
-- grain: accelerator, rent_basis, utilization
-- tests:
--   not_null(assumption_set_id, accelerator, vendor, capex_usd, tdp_w, amortized_usd_per_hour, rent_basis, rent_usd_per_gpu_hour, n_offers, utilization, own_opex_per_hour, pays_back_within_life)
--   accepted_values(rent_basis: cheapest, median, list)
--   range(n_offers: 1..)
--   range(utilization: 0..1)
--   range(breakeven_hours: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) these numbers were computed with.
--   accelerator: Canonical accelerator id.
--   vendor: Accelerator vendor.
--   capex_usd: Purchase price of one GPU: the accelerator's launch_price_usd.
--   tdp_w: Thermal design power of one GPU, watts.
--   power_kw: Wall power of one GPU's share of the server: tdp_w / 1000 x system_power_factor.
--   pue: Facility power / IT power (assumption).
--   usd_per_kwh: Electricity price (assumption).
--   ops_usd_per_gpu_hour: Operations cost per owned GPU-hour, paid around the clock (assumption).
--   depreciation_years: Straight-line life of owned hardware (assumption).
--   amortized_usd_per_hour: amortized_usd_per_hour(capex_usd, depreciation_years): the capex carried by every owned hour, busy or idle.
--   rent_basis: cheapest (lowest on-demand per-GPU rate today), median (median on-demand offer today) or list (median of aws, gcp and azure on-demand offers).
--   rent_usd_per_gpu_hour: Rent per GPU-hour on that basis (marts.gpu_rates_daily, today, on_demand).
--   rent_provider: Provider of the cheapest offer (rent_basis cheapest); null for the other bases.
--   n_offers: On-demand offers for the accelerator today.
--   utilization: Share of the hours in a month the GPU is used (assumption grid); renting, you would pay only those hours.
--   own_opex_per_hour: Cost of owning per hour of use, capex aside: own_opex_per_hour(power_kw, pue, usd_per_kwh, ops_usd_per_gpu_hour / utilization): power while busy, operations spread over the hours used.
--   breakeven_hours: Hours of use until buying pays back: breakeven_hours(capex_usd, rent_usd_per_gpu_hour, own_opex_per_hour). Null when the rent does not exceed own_opex_per_hour: owning never pays back.
--   breakeven_months: Calendar months until buying pays back: breakeven_months(capex_usd, rent_usd_per_gpu_hour, own_opex_per_hour, utilization, hours_per_month).
--   pays_back_within_life: True when breakeven_months is within depreciation_years x 12: the card earns its price back before it is written off. False when it does not or never does.
with cards as (
    -- Curated specs win over Epoch's, as in marts.gpu_rates_current; source breaks the remaining ties.
    select *
    from history.accelerators
    where valid_to is null
    qualify row_number() over (partition by accelerator order by (source = 'curated') desc, source) = 1
),
rents as (
    select d.accelerator, b.rent_basis, b.rent_usd_per_gpu_hour::double as rent_usd_per_gpu_hour,
           b.rent_provider, d.n_offers
    from marts.gpu_rates_daily d,
         lateral (values ('cheapest', d.cheapest_usd_per_gpu_hour, d.cheapest_provider),
                         ('median', d.median_usd_per_gpu_hour, null),
                         ('list', d.list_usd_per_gpu_hour, null))
             b(rent_basis, rent_usd_per_gpu_hour, rent_provider)
    where d.day = current_date and d.pricing_type = 'on_demand' and b.rent_usd_per_gpu_hour is not null
),
owned as (
    select
        a.assumption_set_id, c.accelerator, c.vendor,
        c.launch_price_usd::double as capex_usd, c.tdp_w::double as tdp_w,
        c.tdp_w::double * a.system_power_factor / 1000 as power_kw,
        a.pue, a.usd_per_kwh, a.ops_usd_per_gpu_hour, a.depreciation_years, a.hours_per_month,
        amortized_usd_per_hour(c.launch_price_usd, a.depreciation_years) as amortized_usd_per_hour
    from cards c
    cross join meta.assumptions a
    where c.launch_price_usd > 0 and c.tdp_w > 0
),
priced as (
    select
        o.*, r.rent_basis, r.rent_usd_per_gpu_hour, r.rent_provider, r.n_offers, u.utilization,
        -- Staff, facility and maintenance are paid every hour owned, used or not; renting, you pay only the
        -- hours used. Spreading ops over the used hours keeps the comparison per hour of use.
        own_opex_per_hour(o.power_kw, o.pue, o.usd_per_kwh, o.ops_usd_per_gpu_hour / u.utilization)
            as own_opex_per_hour
    from owned o
    join rents r on r.accelerator = o.accelerator
    cross join (select unnest(utilization_grid) as utilization from meta.assumptions) u
)
select
    assumption_set_id, accelerator, vendor, capex_usd, tdp_w, power_kw, pue, usd_per_kwh,
    ops_usd_per_gpu_hour, depreciation_years, amortized_usd_per_hour,
    rent_basis, rent_usd_per_gpu_hour, rent_provider, n_offers, utilization, own_opex_per_hour,
    breakeven_hours(capex_usd, rent_usd_per_gpu_hour, own_opex_per_hour) as breakeven_hours,
    breakeven_months(
        capex_usd, rent_usd_per_gpu_hour, own_opex_per_hour, utilization, hours_per_month
    ) as breakeven_months,
    coalesce(breakeven_months <= depreciation_years * 12, false) as pays_back_within_life
from priced
