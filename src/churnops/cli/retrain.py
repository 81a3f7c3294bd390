"""`churnops retrain`: production feedback -> a new data version -> the pipeline -> the gate ->
on pass a registered version in staging (or prod); exit 0 when released or nothing is new, 1 when
the gate refuses, 2 on an error. A refusal or an error leaves the repository as it was."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import fill_from_settings, from_settings


def add(commands: Any) -> None:
    """Declare the command and its options."""
    retrain = commands.add_parser(
        "retrain",
        help="retrain on the prediction log's outcomes; release the model if the gate passes",
    )
    retrain.add_argument("--log", type=Path, help=from_settings("log"))
    retrain.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file (default params.yaml)"
    )
    retrain.add_argument(
        "--promote",
        choices=("staging", "prod"),
        default="staging",
        help="the stage a passing model goes to (default staging; prod also assigns staging)",
    )
    retrain.add_argument(
        "--reload",
        metavar="URL",
        help="then tell the service at URL to reload (POST /admin/reload with the token in "
        "CHURNOPS_ADMIN_TOKEN); it serves the new version if it follows that stage",
    )
    retrain.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from churnops.cli.registry import reload_possible, reload_service
    from churnops.lifecycle import retrain
    from churnops.params import ParamsError

    if not reload_possible(args.reload, "retrain"):
        return 2
    try:
        fill_from_settings(args, ("log",))
        result = retrain.retrain(
            Path("."),
            log_path=args.log,
            params_file=str(args.params),
            promote_to=args.promote,
            say=lambda line: print(f"churnops retrain: {line}", flush=True),
        )
    except (retrain.RetrainError, ParamsError, ValueError, OSError) as exc:
        print(f"churnops retrain: error: {exc}", file=sys.stderr)
        return 2
    _audit(args.log, result)
    for warning in result.warnings:
        print(f"churnops retrain: warning: {warning}", file=sys.stderr)
    if result.status == "refused":
        print(f"churnops retrain: REFUSED - {result.summary}", file=sys.stderr)
        return 1
    print(f"churnops retrain: {result.summary}")
    if result.status == "promoted" and args.reload:
        return reload_service(args.reload)
    return 0


def _audit(log: Path, result: Any) -> None:
    """Record the retraining and its outcome in the log's audit table (`churnops audit`); a
    failure to record is said, and changes nothing else."""
    import sqlite3

    from churnops.serving import log_retention

    details = {"status": result.status, "version": result.version, "stages": result.stages,
               "experiment": result.experiment}  # fmt: skip
    try:
        log_retention.record_event(
            log, "retrain", why=result.summary, by=log_retention.who(), details=details
        )
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"churnops retrain: warning: not recorded in the audit table: {exc}", file=sys.stderr)
