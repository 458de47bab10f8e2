-- in_effect(valid_from, valid_to, d): the as-of predicate, true when a history version applies on day d.
-- valid_to is exclusive; a null valid_from is "in effect before the source's first dated change", a null
-- valid_to "still current". Every model and macro that asks "what applied on day d" uses this one.
--   select * from history.gpu_rates where in_effect(valid_from, valid_to, date '2025-06-01');
-- build_date(): the day the models describe as "today": current_date, unless the session sets
-- `set variable costcurve_build_date = date '...'` (tests build one history as of two days with it).
create or replace macro in_effect(valid_from, valid_to, d) as
    coalesce(valid_from, date '0001-01-01') <= d and (valid_to is null or valid_to > d);
create or replace macro build_date() as
    coalesce(getvariable('costcurve_build_date')::date, current_date);
-- start_basis(valid_from, first_seen_at, version_no): how a history version's start is known. declared:
-- the source dates it; observed: a refresh saw the key's price change that day (version_no > 1);
-- unknown: a key's first version, undated or dated only by the day costcurve first saw it (that date
-- says when the warehouse was built, not when the price began).
create or replace macro start_basis(valid_from, first_seen_at, version_no) as
    case
        when valid_from is null then 'unknown'
        when valid_from = (first_seen_at at time zone 'UTC')::date
            then case when version_no = 1 then 'unknown' else 'observed' end
        else 'declared'
    end;
