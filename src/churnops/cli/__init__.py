"""The `churnops` command line: one module per command (`add` declares it, `run` does it)."""

from __future__ import annotations

import argparse

from churnops.cli import (
    abtest,
    audit,
    dashboard,
    gate,
    init,
    log,
    monitor,
    predict,
    registry,
    retrain,
    serve,
    summary,
    synth,
)
from churnops.cli.summary import HEADLINE, pipeline_files

__all__ = ["HEADLINE", "build_parser", "main", "pipeline_files"]


def build_parser() -> argparse.ArgumentParser:
    """Every command and its options."""
    parser = argparse.ArgumentParser(
        prog="churnops",
        description="A reproducible machine-learning lifecycle for a binary outcome, on DVC.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (
        init,
        summary,
        serve,
        predict,
        log,
        registry,
        gate,
        retrain,
        abtest,
        dashboard,
        audit,
        synth,
        monitor,
    ):
        command.add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
