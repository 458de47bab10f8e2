"""The SQL model runner: one ``.sql`` file per table under ``dbt_like_models/<schema>/``.

Each file starts with a header of ``--`` lines::

    -- description: What one row is and who reads it.
    -- materialized: table            (or view)
    -- columns:
    --   model: The model id as the source writes it.

and then one SELECT. Dependencies are the tables it reads, found by parsing the SQL with sqlglot
(no templating): a model reading ``marts.x`` runs after model ``x``. Table macros live in
``dbt_like_models/macros/`` and are created before any model. Column docs become DuckDB comments,
and a column without a doc is an error, so the data dictionary cannot drift from the tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from warehouse.db import document

MODELS_DIR = Path(__file__).resolve().parents[1] / "dbt_like_models"
MODEL_SCHEMAS = ("staging", "marts")
_HEADER = re.compile(r"^--\s?(.*)$")


@dataclass(frozen=True)
class Model:
    name: str
    schema: str
    path: Path
    sql: str
    description: str
    materialized: str
    columns: dict[str, str]
    depends_on: frozenset[str] = field(default_factory=frozenset)

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


def _header(path: Path, text: str) -> tuple[str, str, dict[str, str]]:
    description, materialized, columns, in_columns = "", "table", {}, False
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m:
            break
        body = m.group(1)
        if in_columns and body.startswith("  ") and ":" in body:
            name, doc = body.strip().split(":", 1)
            columns[name.strip()] = doc.strip()
        elif body.startswith("description:"):
            description, in_columns = body.split(":", 1)[1].strip(), False
        elif body.startswith("materialized:"):
            materialized, in_columns = body.split(":", 1)[1].strip(), False
        elif body.startswith("columns:"):
            in_columns = True
        elif in_columns and body.startswith("    "):
            last = list(columns)[-1]
            columns[last] += " " + body.strip()
    if not description or materialized not in ("table", "view"):
        raise ValueError(f"{path}: header needs 'description:' and 'materialized: table|view'")
    return description, materialized, columns


def _reads(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {
        f"{t.db}.{t.name}"
        for t in tree.find_all(exp.Table)
        if t.db in (*MODEL_SCHEMAS, "history", "meta") and t.name not in ctes
    }


def discover(models_dir: Path = MODELS_DIR) -> list[Model]:
    """All models, in an order where every model comes after the models it reads."""
    found: dict[str, Model] = {}
    for schema in MODEL_SCHEMAS:
        for path in sorted((models_dir / schema).glob("*.sql")):
            text = path.read_text()
            description, materialized, columns = _header(path, text)
            reads = _reads(text)
            found[f"{schema}.{path.stem}"] = Model(
                path.stem,
                schema,
                path,
                text,
                description,
                materialized,
                columns,
                frozenset(r for r in reads if r.split(".")[0] in MODEL_SCHEMAS),
            )
    graph = {table: model.depends_on for table, model in found.items()}
    missing = {d for deps in graph.values() for d in deps if d not in found}
    if missing:
        raise ValueError(f"models read tables no model builds: {sorted(missing)}")
    return [found[t] for t in TopologicalSorter(graph).static_order()]


def macro_files(models_dir: Path = MODELS_DIR) -> list[Path]:
    return sorted((models_dir / "macros").glob("*.sql"))


def create_macros(
    con: duckdb.DuckDBPyConnection, extra: list[str] = (), models_dir: Path = MODELS_DIR
) -> None:
    for statement in extra:
        con.execute(statement)
    for path in macro_files(models_dir):
        con.execute(path.read_text())


def build(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    """Materialize one model and document its columns; returns its row count."""
    body = model.sql.rstrip().rstrip(";")
    kind = "view" if model.materialized == "view" else "table"
    if kind == "view":  # a model switched from table to view must not leave its table behind
        con.execute(f"drop table if exists {model.table}")
    con.execute(f"create or replace {kind} {model.table} as {body}")
    actual = [r[0] for r in con.execute(f"select * from {model.table} limit 0").description]
    undocumented = [c for c in actual if c not in model.columns]
    stale = [c for c in model.columns if c not in actual]
    if undocumented or stale:
        raise ValueError(
            f"{model.path.name}: header columns differ from the query: "
            f"undocumented {undocumented}, documented but absent {stale}"
        )
    document(con, model.table, model.description, model.columns)
    return con.execute(f"select count(*) from {model.table}").fetchone()[0]
