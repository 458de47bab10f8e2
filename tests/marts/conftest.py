"""A tiny warehouse built by hand for the economics marts: real history schemas, a few rows each, an
assumption set with round numbers, and only the marts under test (and the marts they read) built.

Every number the tests assert is worked out by hand in the test that asserts it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from pipelines import flow
from warehouse import db, models

# Round numbers so a test can state its arithmetic: a KV cache of exactly 1 GB for the 8b class
# (2 x 10 layers x 5 heads x 125 dims x 10,000 tokens x batch 4 x 2 bytes = 1e9), efficiencies of one
# half, a 0.8 multi-GPU factor, 1 kW per 500 W card.
ASSUMPTIONS = """
blend_input_share = 0.75
utilization_grid = [0.25, 0.5, 1.0]
monthly_token_grid = [100_000_000, 1_000_000_000]
usd_per_kwh = 0.1
pue = 1.5
system_power_factor = 2.0
depreciation_years = 2.0
ops_usd_per_gpu_hour = 0.5
hours_per_month = 730.0
bw_efficiency = 0.5
compute_efficiency = 0.5
multi_gpu_efficiency = 0.8
batch_size = 4
context_tokens = 10000
kv_bytes_per_elem = 2.0
memory_overhead = 1.25

[bytes_per_param]
bf16 = 2.0
fp8 = 1.0

[size_classes.8b]
params_b = 8.0
layers = 10
kv_heads = 5
head_dim = 125
reference_api_models = ["acme/acme-1", "acme/acme-cheap", "acme/acme-unpriced"]

[size_classes.200b]
params_b = 200.0
layers = 10
kv_heads = 5
head_dim = 125
reference_api_models = ["acme/acme-1"]

[size_classes.5000b]
params_b = 5000.0
layers = 10
kv_heads = 5
head_dim = 125
reference_api_models = ["acme/acme-1"]
"""

SEEN = datetime(2026, 1, 1, tzinfo=UTC)


class TinyWarehouse:
    """The connection plus short ways to add history rows, build marts and read them back."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def insert(self, dataset: str, **values: object) -> None:
        """One history row: the named values, the bookkeeping columns filled, every other column null."""
        row = {"first_seen_at": SEEN, "last_seen_at": SEEN, "payload_sha256": "test", "row_hash": "test"}
        if dataset == "token_prices":
            row |= {
                "tier": "base",
                "service_tier": "standard",
                "off_peak": False,
                "mode": "chat",
                "currency": "USD",
            }
        if dataset == "gpu_rates":
            row |= {"currency": "USD", "region": "", "accelerator_name": values.get("accelerator")}
            row["usd_per_instance_hour"] = values["usd_per_gpu_hour"] * values["gpu_count"]
        row |= values
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(f"insert into history.{dataset} ({columns}) values ({marks})", list(row.values()))

    def price(
        self, provider: str, canonical: str, inp: float, out: float, since: date | None, **extra
    ) -> None:
        """A base-tier, standard-service chat price; source genai_prices unless given."""
        self.insert(
            "token_prices",
            **{"source": "genai_prices", "model": canonical.split("/")[1], **extra},
            provider=provider,
            canonical_model=canonical,
            input_usd_per_mtok=inp,
            output_usd_per_mtok=out,
            valid_from=since,
        )

    def rate(
        self,
        provider: str,
        instance: str,
        accelerator: str,
        per_gpu: float,
        gpus: float,
        since: date,
        **extra,
    ) -> None:
        """A rental rate; curated and on_demand unless given."""
        self.insert(
            "gpu_rates",
            **{"source": "curated", "pricing_type": "on_demand", **extra},
            provider=provider,
            instance_type=instance,
            accelerator=accelerator,
            gpu_count=gpus,
            usd_per_gpu_hour=per_gpu,
            valid_from=since,
        )

    def card(self, accelerator: str, **specs: object) -> None:
        self.insert("accelerators", source="curated", accelerator=accelerator, vendor="test", **specs)

    def build(self, *names: str) -> dict[str, int]:
        """Build the named marts after every mart they read, in dependency order; returns row counts."""
        found = {m.table: m for m in models.discover()}
        wanted: set[str] = set()
        stack = [f"marts.{n}" for n in names]
        while stack:
            table = stack.pop()
            if table not in wanted:
                wanted.add(table)
                stack.extend(found[table].depends_on)
        flow.write_assumptions(self.con)
        for statement in flow.macro_sql():
            self.con.execute(statement)
        return {m.name: models.build(self.con, m) for m in models.discover() if m.table in wanted}

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> TinyWarehouse:
    """An empty warehouse with the real history tables and the round-number assumption set."""
    assumptions = tmp_path / "assumptions.toml"
    assumptions.write_text(ASSUMPTIONS)
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(assumptions))
    con = db.connect()
    flow.ensure(con)
    yield TinyWarehouse(con)
    con.close()
