"""The Spark warehouse: ``LGS_DATABASE_URL=spark://local[2]`` (or a cluster).

Tables are Parquet files under a warehouse directory (``LGS_SPARK_WAREHOUSE``, default
``<project>/spark-warehouse``), registered as temporary views in every session, so the
same SQL as on DuckDB and PostgreSQL (transpiled by :func:`lgs_analysis.warehouse.load_sql`)
runs on them, and only aggregates come back to pandas, through Arrow.

URLs: ``spark://local[2]`` (embedded, two cores; ``spark://local[*]`` all cores),
``spark://host:7077`` (a standalone cluster) and ``sc://host:15002`` (Spark Connect). On a
cluster the warehouse directory must be a path every node sees at the same place (a shared
mount), since this process writes the Parquet files itself.

Layout and transactions. Each table is a set of *batch directories*
(``data/<table>/b<batch_id>-<id>/part-*.parquet``), one per load batch, and ``CURRENT.json``
lists the live ones. A write transaction (:meth:`SparkEngine.begin`) holds an exclusive
lock file, writes new batches with pyarrow under ``_staging/``, renames them into ``data/``
and then replaces ``CURRENT.json`` with ``os.replace``: that one rename is the commit. A
failed or killed transaction never reaches it, so readers keep seeing the old snapshot and
the orphans are removed by the next writer. Dropping a batch is removing it from the list.

Why not Delta Lake or Iceberg: both give transactions too, but need JVM packages that
pyspark does not ship (fetched from Maven at session start, or installed on the cluster),
and their writers go through Spark rather than Arrow. This project's writes are whole
batches, by one writer at a time, which a manifest swapped by rename covers with nothing
beyond pyspark and pyarrow. Row-level changes (the ETL's window replacement) are the case
that would call for a table format.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from ..config import bounded_number, get_settings
from ..exceptions import WarehouseError
from .memory import spark_driver_memory

__all__ = [
    "SparkEngine",
    "SparkConnection",
    "table_schemas",
]

MANIFEST = "CURRENT.json"
# orphaned or dropped batch directories older than this are removed by the next writer
# (a report that started reading them before the drop has long finished)
_GC_AFTER_S = 3600
_BATCH_DIR = re.compile(r"^b(\d+)-[0-9a-f]+$")


def _arrow_type(dtype: exp.DataType) -> pa.DataType:
    kind = dtype.this
    T = exp.DataType.Type
    if kind in (T.VARCHAR, T.TEXT, T.CHAR):
        return pa.string()
    if kind == T.INT:
        return pa.int32()
    if kind == T.BIGINT:
        return pa.int64()
    if kind == T.DOUBLE:
        return pa.float64()
    if kind in (T.TIMESTAMP, T.TIMESTAMPNTZ):
        return pa.timestamp("us")
    if kind == T.DATE:
        return pa.date32()
    if kind == T.BOOLEAN:
        return pa.bool_()
    if kind == T.DECIMAL:
        precision, scale = (int(e.this.this) for e in dtype.expressions)
        return pa.decimal128(precision, scale)
    raise WarehouseError(f"no Parquet type for column type {dtype.sql()} in the schema SQL")


def table_schemas(schema_sql: str) -> dict[str, pa.Schema]:
    """Arrow schemas of the ``create table`` statements of a (DuckDB-dialect) SQL text."""
    schemas: dict[str, pa.Schema] = {}
    for tree in sqlglot.parse(schema_sql, read="duckdb"):
        if not isinstance(tree, exp.Create) or tree.kind != "TABLE":
            continue
        schema = tree.this
        fields = [
            pa.field(col.name, _arrow_type(col.args["kind"]))
            for col in schema.expressions
            if isinstance(col, exp.ColumnDef)
        ]
        schemas[schema.this.name] = pa.schema(fields)
    return schemas


def _spark_ddl(schema: pa.Schema) -> str:
    names = {
        pa.string(): "string",
        pa.int32(): "int",
        pa.int64(): "bigint",
        pa.float64(): "double",
        pa.timestamp("us"): "timestamp_ntz",
        pa.date32(): "date",
        pa.bool_(): "boolean",
    }
    cols = []
    for field in schema:
        if pa.types.is_decimal(field.type):
            spark_type = f"decimal({field.type.precision},{field.type.scale})"
        else:
            spark_type = names[field.type]
        cols.append(f"`{field.name}` {spark_type}")
    return ", ".join(cols)


class _Url(str):
    """The warehouse URL, answering ``render_as_string`` like a SQLAlchemy URL."""

    def render_as_string(self, hide_password: bool = True) -> str:  # noqa: ARG002
        return str(self)


@dataclass(frozen=True)
class _Dialect:
    name: str = "spark"


_SESSIONS: dict[str, Any] = {}


def shuffle_partitions() -> int:
    """Spark's shuffle partitions (``LGS_SPARK_PARTITIONS``, 4; from 1 to 10,000)."""
    raw = os.environ.get("LGS_SPARK_PARTITIONS")
    return int(bounded_number("LGS_SPARK_PARTITIONS", raw, 4, (1, 10_000)))


def _session(url: str) -> Any:
    """The process's Spark session for ``url`` (created once; a JVM start takes seconds)."""
    if url in _SESSIONS:
        return _SESSIONS[url]
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(
            f"LGS_DATABASE_URL={url} needs pyspark: install the spark extra "
            "(`make venv SPARK=1`, or pip install -e '.[spark]')"
        ) from None
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = SparkSession.builder.appName("lgs-reports")
    if url.startswith("sc://"):
        builder = builder.remote(url)
    else:
        master = url.removeprefix("spark://")
        builder = builder.master(master if master.startswith("local") else f"spark://{master}")
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
            # the JVM starts here, so its heap is set once per process (LGS_MEMORY_LIMIT)
            .config("spark.driver.memory", spark_driver_memory(get_settings().memory_limit))
        )
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        # the warehouse's timestamps are wall-clock times, as on DuckDB and PostgreSQL
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions()))
        .config("spark.sql.ansi.enabled", "false")
    )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - any start failure means "unreachable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"cannot start or reach Spark at {url}: {reason}") from None
    if not url.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    _SESSIONS[url] = spark
    return spark


def _literal(value: Any) -> Any:
    """A bind value as Spark's named parameters take it (plain Python objects)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, datetime | date | str):
        return value.item()  # numpy scalars
    return value


class SparkEngine:
    """What the project uses of a SQLAlchemy Engine, on a Spark warehouse.

    ``connect()`` opens a read snapshot; ``begin()`` a write transaction (see the module
    docstring). ``schema_sql`` holds the ``create table`` statements (for the Parquet
    schemas) and ``view_sql`` the Spark SQL of the views over them (``retail_lines`` and
    the views built on it), in order.
    """

    dialect = _Dialect()

    def __init__(self, url: str, warehouse_dir: Path, schema_sql: str, view_sql: list[str]) -> None:
        self.url = _Url(url)
        self.warehouse_dir = Path(warehouse_dir)
        self.schemas = table_schemas(schema_sql)
        self._spark: Any = None
        self._view_sql = [
            re.sub(
                r"^\s*create\s+or\s+replace\s+view",
                "CREATE OR REPLACE TEMPORARY VIEW",
                sql,
                count=1,
                flags=re.IGNORECASE,
            )
            for sql in view_sql
        ]

    @property
    def spark(self) -> Any:
        """This engine's Spark session (the process's Spark starts on first use).

        Each engine has its own session on the shared context, so the temporary views of
        two warehouses never mix.
        """
        if self._spark is None:
            root = _session(str(self.url))
            self._spark = root if self.url.startswith("sc://") else root.newSession()
        return self._spark

    def describe(self) -> str:
        """Name the warehouse for messages."""
        return f"Spark warehouse {self.warehouse_dir} on {self.url}"

    def check(self) -> None:
        """Start (or reach) Spark and run ``select 1``."""
        self.spark.sql("select 1").collect()

    # -- snapshots ---------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        path = self.warehouse_dir / MANIFEST
        if not path.exists():
            return {"next_batch_id": 1, "tables": {}}
        return json.loads(path.read_text(encoding="utf-8"))

    def ensure_schema(self) -> None:
        """Create the warehouse directory and an empty snapshot (idempotent)."""
        (self.warehouse_dir / "data").mkdir(parents=True, exist_ok=True)
        if not (self.warehouse_dir / MANIFEST).exists():
            with self._write_lock():
                if not (self.warehouse_dir / MANIFEST).exists():
                    self._write_manifest({"next_batch_id": 1, "tables": {}})

    def _write_manifest(self, manifest: Mapping[str, Any]) -> None:
        path = self.warehouse_dir / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{uuid.uuid4().hex}")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # the commit point

    def register_views(self, manifest: Mapping[str, Any] | None = None) -> None:
        """Register every table of the snapshot, and the views over them, as temporary views."""
        manifest = manifest if manifest is not None else self._read_manifest()
        spark = self.spark
        for table, schema in self.schemas.items():
            dirs = manifest["tables"].get(table, [])
            ddl = _spark_ddl(schema)
            if dirs:
                paths = [str(self.warehouse_dir / "data" / table / d) for d in dirs]
                frame = spark.read.schema(ddl).parquet(*paths)
            else:
                frame = spark.createDataFrame([], ddl)
            frame.createOrReplaceTempView(table)
        for sql in self._view_sql:
            spark.sql(sql)

    @contextmanager
    def connect(self) -> Iterator[SparkConnection]:
        """A read connection on the current snapshot."""
        self.register_views()
        yield SparkConnection(self, None)

    @contextmanager
    def begin(self) -> Iterator[SparkConnection]:
        """A write transaction: one writer at a time; committed by replacing the manifest."""
        self.ensure_schema()
        with self._write_lock():
            self._collect_garbage()
            tx = _Transaction(self, self._read_manifest())
            self.register_views(tx.manifest)
            try:
                yield SparkConnection(self, tx)
            except BaseException:
                shutil.rmtree(tx.staging, ignore_errors=True)
                self.register_views()
                raise
            tx.commit()
            self.register_views()

    def dispose(self) -> None:
        """Nothing to release: the Spark session lives as long as the process."""

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.warehouse_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.warehouse_dir / ".write.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # loads wait for each other; readers never lock
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _collect_garbage(self) -> None:
        """Remove batch directories no snapshot lists and staging left by killed writers."""
        live = {(table, d) for table, dirs in self._read_manifest()["tables"].items() for d in dirs}
        cutoff = time.time() - _GC_AFTER_S
        data = self.warehouse_dir / "data"
        for table_dir in data.iterdir() if data.exists() else []:
            for batch_dir in table_dir.iterdir():
                if (table_dir.name, batch_dir.name) not in live and _older(batch_dir, cutoff):
                    shutil.rmtree(batch_dir, ignore_errors=True)
        staging = self.warehouse_dir / "_staging"
        for tx_dir in staging.iterdir() if staging.exists() else []:
            if _older(tx_dir, cutoff):
                shutil.rmtree(tx_dir, ignore_errors=True)


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


class _Transaction:
    """The batches one write adds and drops, staged until :meth:`commit`."""

    def __init__(self, engine: SparkEngine, manifest: dict[str, Any]) -> None:
        self.engine = engine
        self.manifest = json.loads(json.dumps(manifest))  # a private copy
        self.staging = engine.warehouse_dir / "_staging" / uuid.uuid4().hex
        self._open: dict[tuple[str, int], tuple[str, int]] = {}  # -> (dir name, parts)
        self._rewritten: list[tuple[str, str]] = []  # (table, dir name) written by rewrite()

    def next_batch_id(self) -> int:
        batch_id = int(self.manifest["next_batch_id"])
        self.manifest["next_batch_id"] = batch_id + 1
        return batch_id

    def append(self, table: str, data: pa.Table, batch_id: int) -> int:
        schema = self.engine.schemas[table]
        missing = [f.name for f in schema if f.name not in data.column_names]
        if missing and not all(schema.field(n).nullable for n in missing):
            raise WarehouseError(f"rows for {table} lack columns {', '.join(missing)}")
        columns = [
            data.column(f.name).cast(f.type)
            if f.name in data.column_names
            else pa.nulls(data.num_rows, f.type)
            for f in schema
        ]
        table_data = pa.Table.from_arrays(columns, schema=schema)
        key = (table, batch_id)
        dir_name, parts = self._open.get(key, (f"b{batch_id}-{uuid.uuid4().hex[:12]}", 0))
        target = self.staging / table / dir_name
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(table_data, target / f"part-{parts:05d}.parquet", compression="snappy")
        self._open[key] = (dir_name, parts + 1)
        return data.num_rows

    def rewrite(self, table: str, batch_ids: set[int], keep: Any) -> int:
        """Keep only the rows ``keep(arrow_table)`` marks, in these batches of ``table``.

        Each changed batch directory is written again (same batch id, new directory);
        returns how many rows were removed.
        """
        removed = 0
        live = []
        for dir_name in self.manifest["tables"].get(table, []):
            if int(_BATCH_DIR.match(dir_name).group(1)) not in batch_ids:
                live.append(dir_name)
                continue
            path = self.engine.warehouse_dir / "data" / table / dir_name
            rows = pq.read_table(path, schema=self.engine.schemas[table])
            kept = rows.filter(keep(rows))
            removed += rows.num_rows - kept.num_rows
            if kept.num_rows == rows.num_rows:
                live.append(dir_name)
                continue
            if kept.num_rows:
                batch_id = int(_BATCH_DIR.match(dir_name).group(1))
                new_name = f"b{batch_id}-{uuid.uuid4().hex[:12]}"
                target = self.staging / table / new_name
                target.mkdir(parents=True, exist_ok=True)
                pq.write_table(kept, target / "part-00000.parquet", compression="snappy")
                self._rewritten.append((table, new_name))
        self.manifest["tables"][table] = live
        return removed

    def drop_dirs(self, table: str, batch_ids: set[int]) -> None:
        """Drop these batches from one table only."""
        self.manifest["tables"][table] = [
            d
            for d in self.manifest["tables"].get(table, [])
            if int(_BATCH_DIR.match(d).group(1)) not in batch_ids
        ]

    def batch_ids(self, table: str) -> set[int]:
        """The batch ids ``table`` holds rows of in this transaction's snapshot."""
        return {int(_BATCH_DIR.match(d).group(1)) for d in self.manifest["tables"].get(table, [])}

    def drop_batches(self, batch_ids: set[int]) -> None:
        for table, dirs in self.manifest["tables"].items():
            self.manifest["tables"][table] = [
                d for d in dirs if int(_BATCH_DIR.match(d).group(1)) not in batch_ids
            ]

    def commit(self) -> None:
        data = self.engine.warehouse_dir / "data"
        staged = [(table, dir_name) for (table, _), (dir_name, _) in self._open.items()]
        for table, dir_name in self._rewritten + staged:
            (data / table).mkdir(parents=True, exist_ok=True)
            os.rename(self.staging / table / dir_name, data / table / dir_name)
            self.manifest["tables"].setdefault(table, []).append(dir_name)
        self.engine._write_manifest(self.manifest)
        shutil.rmtree(self.staging, ignore_errors=True)


class SparkConnection:
    """A session on one snapshot (``tx`` set: inside a write transaction)."""

    dialect = _Dialect()

    def __init__(self, engine: SparkEngine, tx: _Transaction | None) -> None:
        self.engine = engine
        self.tx = tx

    def query(self, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
        """Run one query with named parameters; the rows come back through Arrow."""
        args = {k: _literal(v) for k, v in params.items()}
        table = self.engine.spark.sql(sql, args=args or None).toArrow()
        # Spark's date_trunc gives TIMESTAMP (with the session's zone, UTC): back to the
        # warehouse's wall-clock timestamps, as DuckDB and PostgreSQL return them
        for i, field in enumerate(table.schema):
            if pa.types.is_timestamp(field.type) and field.type.tz is not None:
                column = table.column(i).cast(pa.timestamp(field.type.unit, "UTC"))
                naive = pa.compute.local_timestamp(column)
                table = table.set_column(i, field.name, naive)
        return table.to_pandas()

    def execute_statement(self, sql: str, params: Mapping[str, Any]) -> None:
        """Run one statement (its rows, if any, are dropped)."""
        args = {k: _literal(v) for k, v in params.items()}
        self.engine.spark.sql(sql, args=args or None).collect()

    def _writer(self) -> _Transaction:
        if self.tx is None:
            raise WarehouseError(
                "writing to the Spark warehouse needs a transaction (engine.begin())"
            )
        return self.tx

    def next_batch_id(self) -> int:
        """A new batch id (taken when the transaction commits)."""
        return self._writer().next_batch_id()

    def append(self, table: str, data: pa.Table, batch_id: int) -> int:
        """Stage rows of one batch for ``table``."""
        return self._writer().append(table, data, batch_id)

    def rewrite(self, table: str, batch_ids: set[int], keep: Any) -> int:
        """Keep only the rows ``keep(arrow_table)`` marks in these batches; rows removed."""
        removed = self._writer().rewrite(table, set(batch_ids), keep)
        self.engine.register_views(self._writer().manifest)
        return removed

    def drop_dirs(self, table: str, batch_ids: set[int]) -> None:
        """Drop these batches from ``table`` only (at commit)."""
        self._writer().drop_dirs(table, set(batch_ids))
        self.engine.register_views(self._writer().manifest)

    def batch_ids(self, table: str) -> set[int]:
        """The batch ids ``table`` holds rows of (this transaction's snapshot)."""
        return self._writer().batch_ids(table)

    def drop_batches(self, batch_ids: set[int]) -> None:
        """Drop every row of these batches from every table (at commit)."""
        self._writer().drop_batches(set(batch_ids))
        self.engine.register_views(self._writer().manifest)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """SQLAlchemy statements do not run on Spark: the callers take the Spark path."""
        raise WarehouseError(
            "this operation writes through SQLAlchemy, which the Spark warehouse does not "
            "support (use the file loads, `make load`, on Spark)"
        )
