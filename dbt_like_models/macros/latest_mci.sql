-- latest_mci(): the Margin Compression Index on its latest date, one row per tier (all, flagship, mid,
-- small), with its price and compute-cost components. Example:
--   select tier, date, mci, price_index, compute_cost_index from latest_mci() where tier = 'all';
-- DuckDB binds a macro's body when the macro is created, and macros are created before the models, so
-- the mart is named through query_table(), resolved when the macro is called.
create or replace macro latest_mci(mart := 'marts.margin_compression_index') as table
select *
from query_table(mart)
qualify date = max(date) over ()
order by tier
