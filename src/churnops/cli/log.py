"""`churnops log export | erase | purge`: the prediction log as a batch the monitor reads; one
customer's rows erased; rows older than the retention period purged (docs/governance.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import fill_from_settings, from_settings


def add(commands: Any) -> None:
    """Declare the command and its options."""
    logs = commands.add_parser("log", help="the prediction log")
    log_commands = logs.add_subparsers(dest="log_command", required=True)
    export = log_commands.add_parser(
        "export", help="write the logged predictions and outcomes as a batch the monitor reads"
    )
    export.add_argument("--out", required=True, type=Path, help="a .parquet or .csv file")
    export.add_argument("--since", help="only predictions at or after this ISO date/time (UTC)")
    export.add_argument(
        "--labelled-only", action="store_true", help="only predictions whose outcome is known"
    )
    export.add_argument("--log", type=Path, help=from_settings("log"))
    export.add_argument(
        "--model-version",
        help="only this model version's predictions, or 'all' (default: the current model's, "
        "from --meta); rows whose inputs do not match --schema are always left out",
    )
    export.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    export.add_argument(
        "--params", type=Path, help="params file (default: CHURNOPS_PARAMS, else params.yaml)"
    )
    export.add_argument("--meta", type=Path, help=from_settings("meta"))
    export.add_argument("--schema", type=Path, help=from_settings("schema"))
    export.set_defaults(run=run)

    erase = log_commands.add_parser(
        "erase",
        help="delete every prediction, outcome and failure of one customer (right to erasure)",
    )
    erase.add_argument("--customer", required=True, help="the id, as the requests gave it")
    erase.add_argument("--reason", required=True, help="why (recorded in the audit table)")
    purge = log_commands.add_parser(
        "purge", help="delete everything logged before the retention period"
    )
    purge.add_argument(
        "--older-than", help="days, e.g. 400d (default: params governance.retention_days)"
    )
    purge.add_argument("--reason", help="why (recorded in the audit table)")
    for command in (erase, purge):
        command.add_argument("--log", type=Path, help=from_settings("log"))
        command.add_argument(
            "--params", type=Path, help="params file (default: CHURNOPS_PARAMS, else params.yaml)"
        )
    erase.set_defaults(run=run_erase)
    purge.set_defaults(run=run_purge)


def run(args: argparse.Namespace) -> int:
    import sqlite3

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from churnops.files import read_json, refuse_overwrite, staged_outputs
    from churnops.params import ParamsError
    from churnops.serving import log_export, prediction_log

    try:
        fill_from_settings(args, ("log", "meta", "schema"))
        log_path = args.log
        if args.out.suffix not in (".parquet", ".csv"):
            raise ValueError(f"--out must end in .parquet or .csv, got {args.out}")
        refuse_overwrite(args.out, overwrite=args.overwrite)
        since = prediction_log.parse_since(args.since) if args.since else None
        meta, schema = read_json(args.meta), read_json(args.schema)
        version = None if args.model_version == "all" else args.model_version
        if version is None and args.model_version is None:
            version = meta["model_sha256"][:12]  # the current model's, as the service names it
        positive = meta["positive_label"]
        negative = next(c for c in meta["classes"] if c != positive)
        columns = log_export.export_columns(schema)
        target = schema.get("target", {}).get("name")
        rows = known = 0
        with log_export.LogReader(log_path) as reader:
            counts = reader.count(schema, since=since, version=version)
            with (
                tqdm(total=counts["selected"], desc="exporting", unit="rows", disable=None) as bar,
                staged_outputs() as out,
            ):
                path = out.path(args.out)
                writer = pq.ParquetWriter(path, columns) if args.out.suffix == ".parquet" else None
                try:
                    for i, part in enumerate(
                        reader.export(
                            schema,
                            positive_label=positive,
                            negative_label=negative,
                            since=since,
                            version=version,
                            labelled_only=args.labelled_only,
                        )
                    ):
                        if writer is not None:
                            writer.write_table(
                                pa.Table.from_pandas(part, schema=columns, preserve_index=False)
                            )
                        else:
                            part.to_csv(path, mode="a", header=i == 0, index=False)
                        rows += len(part)
                        known += int(part[target].notna().sum()) if target else 0
                        bar.update(len(part))
                finally:
                    if writer is not None:
                        writer.close()
                if rows == 0 and writer is None:  # a CSV with its header, not a missing file
                    pd.DataFrame(columns=columns.names).to_csv(path, index=False)
    except (ParamsError, ValueError, OSError, KeyError, StopIteration, sqlite3.Error) as exc:
        print(f"churnops log export: error: {exc}", file=sys.stderr)
        return 2
    left_out = []
    if counts["other_version"]:
        left_out.append(
            f"{counts['other_version']:,} of other model versions (--model-version all keeps them)"
        )
    if counts["other_schema"]:
        left_out.append(f"{counts['other_schema']:,} whose inputs do not match {args.schema}")
    print(
        f"churnops log export: {rows:,} predictions of model "
        f"{version or 'any version'} ({known:,} with a known outcome) -> {args.out}"
        + (f"; left out {' and '.join(left_out)}" if left_out else "")
    )
    return 0


def run_erase(args: argparse.Namespace) -> int:
    import sqlite3

    from churnops.governance import privacy
    from churnops.params import ParamsError
    from churnops.serving import log_retention

    try:
        fill_from_settings(args, ("log",))
        governance = _governance(args)
        counts = log_retention.erase(
            args.log,
            args.customer,
            privacy.from_params(governance),
            why=args.reason,
            by=log_retention.who(),
        )
    except (ParamsError, ValueError, OSError, sqlite3.Error) as exc:
        print(f"churnops log erase: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"churnops log erase: {_deleted(counts)} of that customer deleted from {args.log}; the "
        "audit table records the erasure, not the id"
    )
    return 0


def run_purge(args: argparse.Namespace) -> int:
    import sqlite3

    from churnops.params import ParamsError
    from churnops.serving import log_retention

    try:
        fill_from_settings(args, ("log",))
        older_than = args.older_than
        if older_than is None:
            days = _governance(args)["retention_days"]
            if days is None:
                raise ValueError("give --older-than, or set params governance.retention_days")
            older_than = f"{days}d"
        before = log_retention.cutoff(older_than)
        counts = log_retention.purge(
            args.log,
            before,
            why=args.reason or f"retention: older than {older_than}",
            by=log_retention.who(),
        )
    except (ParamsError, ValueError, OSError, sqlite3.Error) as exc:
        print(f"churnops log purge: error: {exc}", file=sys.stderr)
        return 2
    print(f"churnops log purge: {_deleted(counts)} logged before {before} deleted from {args.log}")
    return 0


def _governance(args: argparse.Namespace) -> dict[str, Any]:
    """Params `governance` of the params file the command uses."""
    from churnops.config import load_params
    from churnops.serving.settings import params_path

    return load_params(params_path(args.params))["governance"]


def _deleted(counts: dict[str, int]) -> str:
    return (
        f"{counts['predictions']} predictions, {counts['outcomes']} outcomes and "
        f"{counts['failures']} scoring failures"
    )
