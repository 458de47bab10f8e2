"""The SQL model runner: one ``.sql`` file per table under ``dbt_like_models/<schema>/``.

Each file starts with a header of ``--`` lines::

    -- description: What one row is and who reads it.
    -- materialized: table            (or view)
    -- grain: source, provider, model (optional: the columns one row is unique on)
    -- tests:                         (optional: one test a line)
    --   not_null(source, provider, model)
    --   accepted_values(mode: chat, embedding)
    --   range(utilization: 0..1)
    --   relationships(accelerator -> marts.self_host_cost.accelerator)
    -- columns:
    --   model: The model id as the source writes it.

and then one SELECT. Dependencies are the tables it reads, found by parsing the SQL with sqlglot
(no templating): a model reading ``marts.x`` runs after model ``x``. Table macros live in
``dbt_like_models/macros/`` and are created before any model.

Three layers, each a schema: ``seeds`` (reference data kept in the repository, one ``.csv`` per table
under ``dbt_like_models/seeds/`` whose ``--`` header is the same as a model's, without
``materialized``), ``intermediate`` (the rules every mart shares: the price of record, the spec of
record, the offers in effect) and ``marts``. All three are published, so an analyst can query the
rule a mart used (warehouse/publish.py). Column docs become DuckDB comments, and a column without a
doc is an error, so the data dictionary cannot drift from the tables.

The grain and the tests are checked right after the model is built, each as a query returning the
rows that break it (``run_tests``): ``grain`` fails on a repeated key, ``not_null`` on a null in any
of its columns, ``accepted_values`` on a value outside its list (values are compared as text, a
value in single quotes is taken as written, so ``''`` is the empty string), ``range`` on a number
outside ``lo..hi`` (both ends included, either may be left out), ``relationships`` on a value the
other table's column does not hold. Nulls break only ``not_null`` and ``grain``. The
``relationships`` target is built first, like a table the SQL reads.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp

from warehouse.db import document

MODELS_DIR = Path(__file__).resolve().parents[1] / "dbt_like_models"
MODEL_SCHEMAS = ("seeds", "staging", "intermediate", "marts")
_HEADER = re.compile(r"^--\s?(.*)$")
_TEST = re.compile(r"^(\w+)\((.*)\)$")
_TARGET = re.compile(r"^(\w+)\s*->\s*(\w+)\.(\w+)\.(\w+)$")
_SAMPLE = 5  # offending rows a failure quotes


@dataclass(frozen=True)
class ModelTest:
    """One declared test: ``kind`` with the columns it reads and its arguments, as parsed."""

    kind: str
    columns: tuple[str, ...]
    values: tuple[str, ...] = ()  # accepted_values
    low: float | None = None  # range
    high: float | None = None
    target: str | None = None  # relationships: schema.table.column

    @property
    def name(self) -> str:
        """Unique within a model (one grain, one not_null line; the others name their column)."""
        return self.kind if self.kind in ("grain", "not_null") else f"{self.kind}_{self.columns[0]}"

    def __str__(self) -> str:
        if self.kind == "accepted_values":
            return f"accepted_values({self.columns[0]}: {', '.join(self.values)})"
        if self.kind == "range":
            ends = ["" if v is None else f"{v:g}" for v in (self.low, self.high)]
            return f"range({self.columns[0]}: {ends[0]}..{ends[1]})"
        if self.kind == "relationships":
            return f"relationships({self.columns[0]} -> {self.target})"
        return f"{self.kind}({', '.join(self.columns)})"

    def offending(self, table: str, shown: tuple[str, ...]) -> str:
        """The query returning the rows that break the test, with the columns ``shown``."""
        cols = ", ".join(f'"{c}"' for c in shown)
        first = f'"{self.columns[0]}"'
        if self.kind == "grain":
            keys = ", ".join(f'"{c}"' for c in self.columns)
            return f"select {keys}, count(*) as n_rows from {table} group by all having count(*) > 1"
        if self.kind == "not_null":
            where = " or ".join(f'"{c}" is null' for c in self.columns)
        elif self.kind == "accepted_values":
            listed = ", ".join("'" + v.replace("'", "''") + "'" for v in self.values)
            where = f"cast({first} as varchar) not in ({listed})"
        elif self.kind == "range":
            ends = [f"{first} < {self.low}" if self.low is not None else None]
            ends += [f"{first} > {self.high}" if self.high is not None else None]
            where = " or ".join(e for e in ends if e)
        else:
            schema, name, column = self.target.split(".")
            where = (
                f"{first} is not null and not exists "
                f'(select 1 from {schema}.{name} r where r."{column}" = t.{first})'
            )
        return f"select {cols} from {table} t where {where}"


@dataclass(frozen=True)
class ModelTestResult:
    table: str
    test: ModelTest
    failing: int
    sample: list[dict]

    @property
    def passed(self) -> bool:
        return self.failing == 0

    def __str__(self) -> str:
        rows = "; ".join(
            "(" + ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in row.items()) + ")"
            for row in self.sample
        )
        what = "repeated key" if self.test.kind == "grain" else "row"
        plural = "s" if self.failing != 1 else ""
        return f"{self.table}: test {self.test} failed on {self.failing} {what}{plural}, e.g. {rows}"


class ModelTestsFailed(Exception):
    """A model's declared tests found rows that break them: nothing downstream may use it."""

    def __init__(self, failed: list[ModelTestResult]):
        self.failed = failed
        super().__init__("; ".join(str(r) for r in failed))


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
    tests: tuple[ModelTest, ...] = ()

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


def _names(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _test(path: Path, line: str) -> ModelTest:
    m = _TEST.match(line)
    if not m:
        raise ValueError(f"{path}: a test reads kind(arguments), not {line!r}")
    kind, args = m.groups()
    if kind == "not_null" and _names(args):
        return ModelTest(kind, _names(args))
    column, _, rest = args.partition(":")
    if kind == "accepted_values" and rest.strip():
        values = tuple(v[1:-1] if v[:1] == v[-1:] == "'" and len(v) > 1 else v for v in _names(rest))
        return ModelTest(kind, (column.strip(),), values=values)
    if kind == "range" and ".." in rest:
        low, high = (float(v) if v.strip() else None for v in rest.split("..", 1))
        return ModelTest(kind, (column.strip(),), low=low, high=high)
    target = _TARGET.match(args.strip())
    if kind == "relationships" and target:
        return ModelTest(kind, (target.group(1),), target=".".join(target.groups()[1:]))
    raise ValueError(
        f"{path}: unknown test {line!r}: not_null(a, b), accepted_values(col: x, y), range(col: lo..hi) "
        "or relationships(col -> schema.table.column)"
    )


def _header(path: Path, text: str) -> tuple[str, str, dict[str, str], tuple[ModelTest, ...]]:
    seed = path.suffix == ".csv"
    description, materialized, columns, tests, section = "", "seed" if seed else "table", {}, [], None
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m:
            break
        body = m.group(1)
        if section == "columns" and body.startswith("    "):
            last = list(columns)[-1]
            columns[last] += " " + body.strip()
        elif section == "columns" and body.startswith("  ") and ":" in body:
            name, doc = body.strip().split(":", 1)
            columns[name.strip()] = doc.strip()
        elif section == "tests" and body.startswith("  "):
            tests.append(_test(path, body.strip()))
        elif body.startswith("description:"):
            description, section = body.split(":", 1)[1].strip(), None
        elif body.startswith("materialized:"):
            materialized, section = body.split(":", 1)[1].strip(), None
        elif body.startswith("grain:"):
            tests.insert(0, ModelTest("grain", _names(body.split(":", 1)[1])))
            section = None
        elif body.startswith(("columns:", "tests:")):
            section = body.rstrip(":")
    if not description or materialized not in (("seed",) if seed else ("table", "view")):
        need = "'description:'" if seed else "'description:' and 'materialized: table|view'"
        raise ValueError(f"{path}: header needs {need}")
    names = [t.name for t in tests]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path}: two tests of one kind on one column (merge them): {repeated}")
    unknown = {c for t in tests for c in t.columns} - set(columns)
    if unknown:
        raise ValueError(f"{path}: tests name columns the header does not document: {sorted(unknown)}")
    return description, materialized, columns, tuple(tests)


def _reads(sql: str) -> set[str]:
    if not sql.strip():
        return set()
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
        for path in sorted((models_dir / schema).glob("*.sql" if schema != "seeds" else "*.csv")):
            text = path.read_text()
            description, materialized, columns, tests = _header(path, text)
            # A relationships test reads its target after the build: the target is built first.
            sql = "" if materialized == "seed" else text
            reads = _reads(sql) | {t.target.rsplit(".", 1)[0] for t in tests if t.target}
            found[f"{schema}.{path.stem}"] = Model(
                path.stem,
                schema,
                path,
                text,
                description,
                materialized,
                columns,
                frozenset(r for r in reads if r.split(".")[0] in MODEL_SCHEMAS),
                tests,
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


def seed_frame(model: Model) -> pl.DataFrame:
    """A seed's rows: the CSV under its header, types inferred (dates parsed), empty cells null."""
    body = "\n".join(line for line in model.sql.splitlines() if not _HEADER.match(line))
    return pl.read_csv(io.StringIO(body), try_parse_dates=True)


def build(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    """Materialize one model (or load one seed) and document its columns; returns its row count."""
    con.execute(f"create schema if not exists {model.schema}")
    if model.materialized == "seed":
        con.register("_seed_rows", seed_frame(model))
        try:
            con.execute(f"create or replace table {model.table} as select * from _seed_rows")
        finally:
            con.unregister("_seed_rows")
    else:
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


def run_tests(con: duckdb.DuckDBPyConnection, model: Model) -> list[ModelTestResult]:
    """Run every declared test of a built model; each result quotes up to five offending rows, by
    the model's grain and the columns the test reads."""
    grain = next((t.columns for t in model.tests if t.kind == "grain"), ())
    results = []
    for test in model.tests:
        shown = tuple(dict.fromkeys((*grain, *test.columns)))
        query = test.offending(model.table, shown)
        failing = con.execute(f"select count(*) from ({query})").fetchone()[0]
        cursor = con.execute(f"select * from ({query}) limit {_SAMPLE}")
        names = [d[0] for d in cursor.description]
        sample = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        results.append(ModelTestResult(model.table, test, failing, sample))
    return results


def check(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """Run the model's tests; raise ModelTestsFailed naming each failing test and its offending rows."""
    failed = [r for r in run_tests(con, model) if not r.passed]
    if failed:
        raise ModelTestsFailed(failed)
