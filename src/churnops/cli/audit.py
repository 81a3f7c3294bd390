"""`churnops audit`: who did what to the models and the prediction log, when, and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from churnops.cli.common import fill_from_settings, from_settings


def add(commands: Any) -> None:
    """Declare the command and its options."""
    audit = commands.add_parser(
        "audit",
        help="the audit trail: registrations, promotions, rollbacks (git tags), erasures and "
        "purges (the prediction log's audit table)",
    )
    audit.add_argument("--log", type=Path, help=from_settings("log"))
    audit.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    audit.add_argument(
        "--params", type=Path, help="params file (default: CHURNOPS_PARAMS, else params.yaml)"
    )
    audit.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sqlite3

    from churnops.lifecycle import audit
    from churnops.registry.versions import RegistryError

    try:
        fill_from_settings(args, ("log",))
        events = audit.trail(Path("."), args.log)
    except (RegistryError, OSError, ValueError, sqlite3.Error) as exc:
        print(f"churnops audit: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(events, indent=2))
        return 0
    if not events:
        print("churnops audit: nothing recorded yet (no registry tag, no erasure or purge)")
        return 0
    for e in events:
        print(f"{e['when']}  {e['action']:<12}  {e['what']}")
        print(f"{'':<27}by {e['who']}: {e['why'] or '(no reason given)'}  [{e['source']}]")
    return 0
