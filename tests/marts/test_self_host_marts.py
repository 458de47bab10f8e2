"""marts.self_host_cost, marts.breakeven_api_vs_self_host and marts.implied_gross_margin on a tiny
warehouse, every number worked out by hand from the assumptions in conftest.py.

The 8b class: 8e9 parameters, KV cache of the batch 1 GB. Weights in memory x 1.25 overhead:
bf16 8 x 2 x 1.25 = 20 GB + 1 GB KV = 21 GB; fp8 10 + 1 = 11 GB. Prefill costs 2 x 8e9 = 16e9 FLOPs per
input token; a blended token (3:1) takes 0.75 / prefill + 0.25 / decode seconds.
"""

from __future__ import annotations

from datetime import date

import pytest

SINCE = date(2026, 1, 1)
CLASSES = ("8b", "200b", "5000b")


@pytest.fixture
def wh(tiny):
    # gpu40: 40 GB, 2 TB/s, 500 dense BF16 TFLOPS, 1,000 FP8. old16: 16 GB, 1 TB/s, 2 BF16 TFLOPS (so
    # compute-bound), no FP8.
    tiny.card(
        "test-gpu40", memory_gb=40, memory_bandwidth_tbps=2, bf16_dense_tflops=500, fp8_dense_tflops=1000
    )
    tiny.card("test-old16", memory_gb=16, memory_bandwidth_tbps=1, bf16_dense_tflops=2)
    tiny.rate("cloudx", "x1", "test-gpu40", 2.00, 1, SINCE)
    tiny.rate("cloudx", "x1-spot", "test-gpu40", 0.80, 1, SINCE, pricing_type="spot")
    tiny.rate("gcp", "bb8", "test-gpu40", 2.50, 8, SINCE)
    tiny.rate("oldco", "o1", "test-old16", 0.50, 1, SINCE)
    # A replica needing two old16 cards cannot span o1's single-card instances; oldco's 2-card one hosts it.
    tiny.rate("oldco", "o2", "test-old16", 0.50, 2, SINCE)
    # First-party prices of the reference models (genai_prices wins over curated); a reseller's price of
    # the same model must not be used.
    tiny.price("acme", "acme/acme-1", 4.0, 12.0, SINCE)
    tiny.price("acme", "acme/acme-1", 8.0, 24.0, SINCE, source="curated")
    tiny.price("resell", "acme/acme-1", 1.0, 1.0, SINCE)
    tiny.price("acme", "acme/acme-cheap", 0.5, 0.5, SINCE)
    # An open-weights twin of the 8b class (listed in implied_gross_margin.sql), sold by a host.
    tiny.price("hostco", "meta-llama/llama-3.1-8b-instruct", 2.0, 6.0, SINCE)
    counts = tiny.build("self_host_cost", "breakeven_api_vs_self_host", "implied_gross_margin")
    assert all(counts.values()), counts
    return tiny


def one(wh, sql: str, params: list) -> dict:
    (row,) = wh.rows(sql, params)
    return row


def cost(wh, accelerator: str, provider: str, size: str, dtype: str, utilization: float) -> dict:
    return one(
        wh,
        "select * from marts.self_host_cost where accelerator = ? and provider = ? and size_class = ?"
        " and dtype = ? and utilization = ? and pricing_type = 'on_demand'",
        [accelerator, provider, size, dtype, utilization],
    )


def test_one_gpu_bf16_memory_bound(wh):
    row = cost(wh, "test-gpu40", "cloudx", "8b", "bf16", 0.5)
    # 21 GB on a 40 GB card: one GPU. Step: (16e9 weight bytes + 1e9 KV) / (2e12 x 0.5) = 0.017 s against
    # 2 x 8e9 x 4 / (500e12 x 0.5) = 0.000256 s of compute; 4 sequences / 0.017 s = 235.29 tokens/s.
    assert row["gpus"] == 1
    assert row["kv_cache_gb"] == pytest.approx(1.0)
    assert row["tokens_per_second"] == pytest.approx(4 / 0.017)
    assert row["roofline_bound"] == "memory"
    assert row["compute_dtype"] == "bf16"
    assert row["throughput_basis"] == "roofline"
    # $2 / (235.29 x 3600 x 0.5) x 1e6 = 2e6 x 0.017 / 7200 = $4.7222 per million output tokens.
    assert row["usd_per_mtok"] == pytest.approx(2e6 * 0.017 / 7200)
    # Prefill: 500e12 x 0.5 / 16e9 = 15,625 tokens/s. A blended token: 0.75 / 15,625 + 0.25 x 0.017 / 4
    # = 4.8e-5 + 1.0625e-3 = 1.1105e-3 s, 900.5 tokens/s; $2e6 x 1.1105e-3 / 1800 = $1.2339 per million.
    assert row["prefill_tokens_per_second"] == pytest.approx(15_625)
    assert row["blended_tokens_per_second"] == pytest.approx(1 / 1.1105e-3)
    assert row["usd_per_blended_mtok"] == pytest.approx(2e6 * 1.1105e-3 / 1800)
    assert (
        row["assumption_set_id"]
        == wh.rows("select assumption_set_id from meta.assumptions")[0]["assumption_set_id"]
    )


def test_fp8_halves_the_bytes_and_the_cost(wh):
    row = cost(wh, "test-gpu40", "cloudx", "8b", "fp8", 0.5)
    # (8e9 + 1e9) / 1e12 = 0.009 s per step: 444.4 tokens/s, $2e6 x 0.009 / 7200 = $2.50.
    assert (row["gpus"], row["compute_dtype"], row["dense_tflops"]) == (1, "fp8", 1000)
    assert row["tokens_per_second"] == pytest.approx(4 / 0.009)
    assert row["usd_per_mtok"] == pytest.approx(2.5)
    assert cost(wh, "test-gpu40", "cloudx", "8b", "fp8", 1.0)["usd_per_mtok"] == pytest.approx(1.25)
    # FP8 compute doubles prefill too: 1,000e12 x 0.5 / 16e9 = 31,250 tokens/s. A blended token:
    # 0.75 / 31,250 + 0.25 x 0.009 / 4 = 2.4e-5 + 5.625e-4 = 5.865e-4 s; $2e6 x 5.865e-4 / 1800 = $0.65167.
    assert row["prefill_tokens_per_second"] == pytest.approx(31_250)
    assert row["usd_per_blended_mtok"] == pytest.approx(2e6 * 5.865e-4 / 1800)


def test_two_small_cards_with_the_split_loss_and_compute_bound(wh):
    row = cost(wh, "test-old16", "oldco", "8b", "bf16", 0.5)
    # 21 GB / 16 GB: two cards, efficiencies x 0.8. Memory: 17e9 / (2 x 1e12 x 0.4) = 0.02125 s; compute:
    # 64e9 / (2 x 2e12 x 0.4) = 0.04 s, so compute-bound at 4 / 0.04 = 100 tokens/s.
    assert row["gpus"] == 2
    assert row["roofline_bound"] == "compute"
    assert row["tokens_per_second"] == pytest.approx(100)
    assert row["deployment_usd_per_hour"] == pytest.approx(1.0)
    # $0.50 x 2 GPUs / (100 x 3600 x 0.5) x 1e6 = $5.5556.
    assert row["usd_per_mtok"] == pytest.approx(1e6 / 180_000)
    # Prefill gets the split loss too: 2 x 2e12 x 0.5 x 0.8 / 16e9 = 100 tokens/s, the compute-bound
    # decode rate (both are 2 FLOPs per parameter per token), so blending changes nothing here.
    assert row["prefill_tokens_per_second"] == pytest.approx(100)
    assert row["blended_tokens_per_second"] == pytest.approx(100)
    assert row["usd_per_blended_mtok"] == pytest.approx(1e6 / 180_000)


def test_fp8_only_where_the_card_has_fp8(wh):
    dtypes = wh.rows("select distinct dtype from marts.self_host_cost where accelerator = 'test-old16'")
    assert [r["dtype"] for r in dtypes] == ["bf16"]


def test_a_model_that_fits_on_no_accelerator_is_absent(wh):
    # 5000b in fp8 needs 5000 x 1.25 + 1 = 6,251 GB: 157 cards of 40 GB, beyond the 64-GPU limit.
    classes = {r["size_class"] for r in wh.rows("select distinct size_class from marts.self_host_cost")}
    assert classes == {"8b", "200b"}
    assert wh.rows("select * from marts.breakeven_api_vs_self_host where size_class = '5000b'") == []


def test_tensor_parallel_degrees_on_whole_instances(wh):
    # 200b bf16: 200 x 2 x 1.25 + 1 = 501 GB, 13 cards' worth: tensor parallelism runs on 16 (two whole
    # 8-GPU gcp instances, $2.50 x 16 = $40/h). cloudx's single cards cannot be joined into one replica.
    bf16 = wh.rows(
        "select provider, gpus_for_memory, gpus, billed_gpus, deployment_usd_per_hour from marts.self_host_cost"
        " where size_class = '200b' and dtype = 'bf16'"
    )
    assert {tuple(r.values()) for r in bf16} == {("gcp", 13, 16, 16.0, 40.0)}
    # fp8: 251 GB, 7 cards' worth, runs on 8: one gcp instance.
    fp8 = wh.rows(
        "select distinct provider, gpus_for_memory, gpus, billed_gpus from marts.self_host_cost"
        " where size_class = '200b' and dtype = 'fp8'"
    )
    assert {tuple(r.values()) for r in fp8} == {("gcp", 7, 8, 8.0)}
    # 8b on gcp's 8-GPU instance: eight one-card replicas share it, each paying for one card.
    row = cost(wh, "test-gpu40", "gcp", "8b", "bf16", 0.5)
    assert (row["gpus"], row["billed_gpus"], row["deployment_usd_per_hour"]) == (1, 1.0, 2.5)
    # No row anywhere has a count tensor parallelism cannot use.
    counts = {r["gpus"] for r in wh.rows("select distinct gpus from marts.self_host_cost")}
    assert counts <= {1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64}


def test_grain_and_offer_rank(wh):
    # Offers: cloudx on_demand and spot and gcp on test-gpu40, oldco on test-old16. Deployments that fit:
    # test-gpu40 offers x (8b bf16, 8b fp8) + gcp 200b fp8 and bf16 + oldco 8b bf16; x 3 utilizations.
    assert wh.rows("select count(*) as n from marts.self_host_cost")[0]["n"] == (3 * 2 + 2 + 1) * 3
    ranks = wh.rows(
        "select distinct size_class, provider, pricing_type, offer_rank from marts.self_host_cost"
        " where accelerator = 'test-gpu40'"
    )
    assert {(r["size_class"], r["provider"], r["pricing_type"], r["offer_rank"]) for r in ranks} == {
        ("8b", "cloudx", "on_demand", 1),
        ("8b", "gcp", "on_demand", 2),
        ("8b", "cloudx", "spot", 1),
        ("200b", "gcp", "on_demand", 1),  # the only provider that can host it
    }
    assert wh.rows("select min(utilization) as u from marts.self_host_cost")[0]["u"] == 0.25


def test_a_fraction_of_a_card_is_not_an_offer(wh):
    wh.rate("slicer", "half", "test-gpu40", 1.20, 0.5, SINCE)
    wh.build("self_host_cost")
    assert wh.rows("select * from marts.self_host_cost where provider = 'slicer'") == []


def breakeven(wh, api_model: str, accelerator: str, dtype: str, utilization: float, tokens: int) -> dict:
    return one(
        wh,
        "select * from marts.breakeven_api_vs_self_host where size_class = '8b' and api_model = ?"
        " and accelerator = ? and dtype = ? and utilization = ? and monthly_tokens = ?",
        [api_model, accelerator, dtype, utilization, tokens],
    )


def test_api_price_is_the_first_party_blend(wh):
    row = breakeven(wh, "acme/acme-1", "test-gpu40", "fp8", 0.5, 100_000_000)
    # genai_prices' $4 / $12 (not curated's $8 / $24, not the reseller's $1 / $1): 0.75 x 4 + 0.25 x 12.
    assert (row["api_price_source"], row["api_price_provider"]) == ("genai_prices", "acme")
    assert row["api_usd_per_mtok"] == pytest.approx(6.0)
    models = {
        r["api_model"] for r in wh.rows("select distinct api_model from marts.breakeven_api_vs_self_host")
    }
    assert models == {"acme/acme-1", "acme/acme-cheap"}  # acme-unpriced has no price: no rows


def test_crossover_volume(wh):
    low = breakeven(wh, "acme/acme-1", "test-gpu40", "fp8", 0.5, 100_000_000)
    high = breakeven(wh, "acme/acme-1", "test-gpu40", "fp8", 0.5, 1_000_000_000)
    # The cheapest on-demand offer that holds it: cloudx at $2/h. One replica all month: 2 x 730 = $1,460;
    # it serves 1 / 5.865e-4 = 1,705.0 blended tokens/s, 1,705.0 x 3600 x 0.5 x 730 = 2,240M tokens a month.
    # Crossover: 1,460 / $6 x 1e6 = 243.3M tokens.
    assert (low["provider"], low["gpus"], low["replica_monthly_usd"]) == ("cloudx", 1, pytest.approx(1460))
    assert low["tokens_per_second"] == pytest.approx(4 / 0.009)
    assert low["blended_tokens_per_second"] == pytest.approx(1 / 5.865e-4)
    assert low["self_host_usd_per_mtok"] == pytest.approx(2.5)
    assert low["self_host_usd_per_blended_mtok"] == pytest.approx(2e6 * 5.865e-4 / 1800)
    assert low["breakeven_monthly_tokens"] == pytest.approx(1460 / 6 * 1e6)
    # 100M tokens: API $600 against one replica's $1,460.
    assert (low["api_monthly_usd"], low["self_host_monthly_usd"]) == (pytest.approx(600), pytest.approx(1460))
    assert low["self_host_cheaper"] is False
    # 1B tokens fit one replica (at decode speed alone, 584M a replica, they took two): $1,460 against $6,000.
    assert (high["api_monthly_usd"], high["self_host_monthly_usd"]) == (
        pytest.approx(6000),
        pytest.approx(1460),
    )
    assert high["self_host_cheaper"] is True


def test_volume_beyond_one_replica_adds_a_replica(wh):
    row = breakeven(wh, "acme/acme-1", "test-gpu40", "bf16", 0.25, 1_000_000_000)
    # 1 / 1.1105e-3 = 900.5 blended tokens/s x 3600 x 0.25 x 730 = 591.6M a replica: 1B needs 2, $2,920.
    assert row["self_host_monthly_usd"] == pytest.approx(2920)
    assert row["self_host_cheaper"] is True


def test_no_crossover_when_the_api_is_cheaper_per_token_than_a_full_replica(wh):
    row = breakeven(wh, "acme/acme-cheap", "test-gpu40", "fp8", 0.5, 1_000_000_000)
    # $0.50 blended against $0.65167 per million blended tokens self-hosted: the API wins at every volume.
    assert row["breakeven_monthly_tokens"] is None
    assert row["self_host_cheaper"] is False


def test_crossover_appears_once_input_tokens_are_costed_at_prefill_speed(wh):
    row = breakeven(wh, "acme/acme-cheap", "test-gpu40", "fp8", 1.0, 1_000_000_000)
    # At 100% a blended token costs $0.32583 (a replica holds 4,481M a month), below the API's $0.50: the
    # crossover is 1,460 / 0.50 x 1e6 = 2.92B tokens. Per output token ($1.25) there would be none.
    assert row["self_host_usd_per_blended_mtok"] == pytest.approx(2e6 * 5.865e-4 / 3600)
    assert row["breakeven_monthly_tokens"] == pytest.approx(2.92e9)
    # At 1B tokens, short of the crossover: $500 against $1,460.
    assert (row["api_monthly_usd"], row["self_host_monthly_usd"]) == (pytest.approx(500), pytest.approx(1460))
    assert row["self_host_cheaper"] is False


def test_breakeven_takes_the_cheapest_offer_that_can_hold_the_model(wh):
    offers = wh.rows(
        "select distinct size_class, dtype, accelerator, provider from marts.breakeven_api_vs_self_host"
    )
    assert {(r["size_class"], r["dtype"], r["accelerator"], r["provider"]) for r in offers} == {
        ("8b", "bf16", "test-gpu40", "cloudx"),
        ("8b", "fp8", "test-gpu40", "cloudx"),
        ("8b", "bf16", "test-old16", "oldco"),
        ("200b", "fp8", "test-gpu40", "gcp"),  # cloudx's single cards cannot be joined into 8
        ("200b", "bf16", "test-gpu40", "gcp"),
    }
    # old16: $1/h for two cards, compute-bound at 100 tokens/s (blended too): crossover 730 / 6 x 1e6 = 121.7M.
    old = breakeven(wh, "acme/acme-1", "test-old16", "bf16", 0.5, 100_000_000)
    assert old["breakeven_monthly_tokens"] == pytest.approx(730 / 6 * 1e6)
    # Grain: 8b x 2 priced models x 3 deployments + 200b x 1 x 2, each x 3 utilizations x 2 volumes.
    assert wh.rows("select count(*) as n from marts.breakeven_api_vs_self_host")[0]["n"] == (6 + 2) * 3 * 2


def test_implied_gross_margin_of_a_host_on_the_cheapest_non_interruptible_offer(wh):
    (row,) = wh.rows(
        "select * from marts.implied_gross_margin where model = 'meta-llama/llama-3.1-8b-instruct'"
        " and api_provider = 'hostco' and dtype = 'fp8' and utilization = 1.0"
    )
    # Price 0.75 x 2 + 0.25 x 6 = $3.00. Cost floor: cloudx on demand at 100%, 2e6 x 5.865e-4 / 3600 =
    # $0.32583 per blended token (the $0.80 spot offer would be $0.13033, but spot capacity can be taken
    # away mid-service). (3 - 0.32583) / 3 = 0.8914; with input tokens free, $1.25 per output token x 0.25:
    # (3 - 0.3125) / 3 = 0.8958.
    assert row["api_usd_per_mtok"] == pytest.approx(3.0)
    assert (row["cost_provider"], row["cost_pricing_type"]) == ("cloudx", "on_demand")
    assert row["self_host_usd_per_mtok"] == pytest.approx(1.25)
    assert row["self_host_usd_per_blended_mtok"] == pytest.approx(2e6 * 5.865e-4 / 3600)
    assert row["implied_gross_margin"] == pytest.approx((3 - 2e6 * 5.865e-4 / 3600) / 3)
    assert row["implied_gross_margin_prefill_free"] == pytest.approx((3 - 1.25 * 0.25) / 3)
    # Only the 8b twin has a price, and only its size class is costed.
    models = wh.rows("select distinct model, size_class from marts.implied_gross_margin")
    assert models == [{"model": "meta-llama/llama-3.1-8b-instruct", "size_class": "8b"}]


def test_implied_gross_margin_floor_is_the_cheapest_blended_token(wh):
    # test-bw: bandwidth rich, compute poor. 8b bf16 on it: decode reads 17e9 B / (4e12 x 0.5) = 0.0085 s
    # a step against 2 x 8e9 x 4 / (20e12 x 0.5) = 0.0064 s of compute, so $2e6 x 0.0085 / 4 / 3600 = $1.1806
    # per output token at 100%, half test-gpu40's $2.3611. But prefill is 20e12 x 0.5 / 16e9 = 625 tokens/s:
    # a blended token takes 0.75 / 625 + 0.25 x 0.0085 / 4 = 1.73125e-3 s, $0.96181, against test-gpu40's
    # 2e6 x 1.1105e-3 / 3600 = $0.61694. The floor is test-gpu40.
    wh.card("test-bw", memory_gb=40, memory_bandwidth_tbps=4, bf16_dense_tflops=20)
    wh.rate("bwco", "b1", "test-bw", 2.00, 1, SINCE)
    wh.build("implied_gross_margin")
    bw = cost(wh, "test-bw", "bwco", "8b", "bf16", 1.0)
    assert bw["usd_per_mtok"] == pytest.approx(2e6 * 0.0085 / 4 / 3600)
    assert bw["usd_per_blended_mtok"] == pytest.approx(2e6 * 1.73125e-3 / 3600)
    (row,) = wh.rows(
        "select * from marts.implied_gross_margin where api_provider = 'hostco' and dtype = 'bf16'"
        " and utilization = 1.0"
    )
    assert (row["accelerator"], row["self_host_usd_per_blended_mtok"]) == (
        "test-gpu40",
        pytest.approx(2e6 * 1.1105e-3 / 3600),
    )
