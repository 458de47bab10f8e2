-- cheapest_gpu_offer(d): the cheapest per-GPU-hour offer in effect on date d for each canonical
-- accelerator and pricing type, with how many offers it beat. Example:
--   select accelerator, pricing_type, usd_per_gpu_hour, provider, instance_type
--   from cheapest_gpu_offer(current_date) where accelerator like 'nvidia-h100%';
create or replace macro cheapest_gpu_offer(d) as table
select
    accelerator, pricing_type, usd_per_gpu_hour, source, provider, instance_type, region, zone,
    gpu_count, usd_per_instance_hour, valid_from as rate_since,
    count(*) over (partition by accelerator, pricing_type) as n_offers
from history.gpu_rates
where accelerator is not null
  and in_effect(valid_from, valid_to, d)
-- ties go to the alphabetically first provider and offer, so the answer is stable
qualify row_number() over (
    partition by accelerator, pricing_type order by usd_per_gpu_hour, provider, instance_type, region, zone, source
) = 1
order by accelerator, pricing_type
