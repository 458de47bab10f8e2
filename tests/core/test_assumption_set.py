"""The assumption set: documented defaults, overrides, validation and a stable id."""

from __future__ import annotations

import dataclasses
import re

import pytest

from core import Assumptions, SizeClass


def test_defaults_hold_the_cited_values():
    a = Assumptions()
    assert a.blend_input_share == 0.75
    assert dict(a.bytes_per_param) == {"bf16": 2.0, "fp8": 1.0, "int4": 0.5}
    assert a.pue == 1.3
    assert a.usd_per_kwh == 0.10
    assert a.depreciation_years == 3.0
    assert a.hours_per_month == 730.0
    assert a.memory_overhead == 1.2
    assert a.batch_size == 32
    assert a.utilization_grid[0] == 0.1 and a.utilization_grid[-1] == 1.0
    assert a.monthly_token_grid[0] == 1_000_000 and a.monthly_token_grid[-1] == 30_000_000_000
    assert a.size_classes["70b"] == SizeClass(
        70.0, 80, 8, 128, ("openai/gpt-4.1-mini", "google/gemini-2.5-flash")
    )
    # The ops default is 30% of seed 003's $675K / (8 GPUs x 26,280 h) = $3.21/GPU-hour.
    assert a.ops_usd_per_gpu_hour == pytest.approx(0.30 * 675_000 / (8 * 26_280), abs=0.005)


def test_from_mapping_overrides_and_turns_lists_into_tuples():
    a = Assumptions.from_mapping({"pue": 1.2, "utilization_grid": [0.5, 0.9], "batch_size": 8})
    assert (a.pue, a.utilization_grid, a.batch_size) == (1.2, (0.5, 0.9), 8)
    assert a.usd_per_kwh == Assumptions().usd_per_kwh


def test_from_mapping_rejects_unknown_keys_by_name():
    with pytest.raises(
        ValueError, match=r"unknown assumption key\(s\): pue_typo, utilisation;.*known keys: .*pue"
    ):
        Assumptions.from_mapping({"pue_typo": 1.2, "utilisation": 0.5})


def test_size_classes_from_plain_mappings():
    a = Assumptions.from_mapping(
        {
            "size_classes": {
                "13b": {
                    "params_b": 13,
                    "layers": 40,
                    "kv_heads": 40,
                    "head_dim": 128,
                    "reference_api_models": ["llama-2-13b-chat"],
                }
            }
        }
    )
    assert list(a.size_classes) == ["13b"]
    assert a.size_classes["13b"].reference_api_models == ("llama-2-13b-chat",)
    with pytest.raises(ValueError, match=r"size class '13b': unknown key\(s\) \['layer'\]"):
        Assumptions.from_mapping({"size_classes": {"13b": {"params_b": 13, "layer": 40}}})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"pue": 0.9}, "pue .* cannot be below 1, got 0.9"),
        ({"blend_input_share": 1.5}, "blend_input_share must lie in \\[0, 1\\], got 1.5"),
        ({"utilization_grid": []}, "utilization_grid"),
        ({"utilization_grid": [0.0, 0.5]}, "utilization_grid"),
        ({"depreciation_years": 0}, "depreciation_years must be positive"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"bytes_per_param": {"fp8": 0}}, "bytes_per_param"),
    ],
)
def test_invalid_values_are_refused(override, message):
    with pytest.raises(ValueError, match=message):
        Assumptions.from_mapping(override)


def test_a_set_cannot_change_after_it_is_made():
    a = Assumptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.pue = 1.1
    with pytest.raises(TypeError):
        a.bytes_per_param["fp4"] = 0.25


def test_assumption_set_id_is_short_stable_and_value_based():
    default_id = Assumptions().assumption_set_id()
    assert re.fullmatch(r"[0-9a-f]{12}", default_id)
    assert Assumptions.from_mapping({}).assumption_set_id() == default_id
    # 3 and 3.0 are the same assumption.
    assert Assumptions.from_mapping({"depreciation_years": 3}).assumption_set_id() == default_id
    assert Assumptions.from_mapping({"pue": 1.31}).assumption_set_id() != default_id
    assert Assumptions.from_mapping({"utilization_grid": [1.0, 0.9]}).assumption_set_id() != default_id


def test_sets_with_equal_values_are_equal_and_hash_alike():
    assert Assumptions.from_mapping({"pue": 1.3}) == Assumptions()
    assert len({Assumptions(), Assumptions.from_mapping({"depreciation_years": 3})}) == 1


def test_default_id_is_pinned():
    # Marts record this id. It may change only when a default changes, deliberately: update it then.
    # 4b9889ec9e9b: reference_api_models became canonical ids with first-party prices (was 371b00ad72a2).
    # f82b35ed93a8: MoE size classes and the measured-throughput tolerances (issue 14), with the MCI base
    # date and minimum matched items.
    # 7a1216ef964b: tokens derived from a published eval cost (derived_tokens_input_share), buy vs rent on
    # one basis (ops_reference_tdp_w, host_share_of_gpu_price, server_share_priced) and the operating-point
    # grid (batch_grid, context_grid, latency_target_ms_per_token), issue 14.
    assert Assumptions().assumption_set_id() == "7a1216ef964b"


def test_as_dict_is_plain_data():
    values = Assumptions().as_dict()
    assert values["bytes_per_param"] == {"bf16": 2.0, "fp8": 1.0, "int4": 0.5}
    assert values["size_classes"]["8b"]["reference_api_models"] == [
        "mistralai/ministral-8b",
        "openai/gpt-4o-mini",
    ]
    assert Assumptions.from_mapping(values) == Assumptions()


def test_reference_api_models_are_canonical_ids():
    # The breakeven mart joins them to token_prices.canonical_model, which is always creator/name.
    for size in Assumptions().size_classes.values():
        assert all(re.fullmatch(r"[a-z0-9-]+/[a-z0-9.-]+", m) for m in size.reference_api_models)
