"""What the commands share: options whose defaults are the service's settings, and the CSV
format of the user's files."""

from __future__ import annotations

import argparse
from typing import Any

from churnops.serving.settings import default, settings_from_env

# option -> the Settings field it defaults to
SETTING_OF = {
    "model": "model_path",
    "meta": "meta_path",
    "schema": "schema_path",
    "compiled": "compiled_path",
    "log": "log_path",
    "policy": "policy",
    "engine": "engine",
}


def from_settings(option: str) -> str:
    """Help text for an option whose default is the service's setting."""
    value = default(SETTING_OF[option])
    return f"default {value}, unless params serve or a CHURNOPS_* variable says otherwise"


def fill_from_settings(args: argparse.Namespace, options: tuple[str, ...]) -> None:
    """Give each unset option its value from the service's settings (one source of defaults)."""
    settings = settings_from_env(getattr(args, "params", None))
    for option in options:
        if getattr(args, option) is None:
            setattr(args, option, getattr(settings, SETTING_OF[option]))


def csv_format(args: argparse.Namespace) -> Any:
    """The CSV format of the user's files: params `prepare.csv` (the params file of the settings
    chain), else comma, point and UTF-8."""
    from churnops.files import CsvFormat
    from churnops.params import load_params
    from churnops.serving.settings import params_path

    path = params_path(getattr(args, "params", None))
    return CsvFormat.from_params(load_params(path)) if path.is_file() else CsvFormat()


def scheduler_options(command: argparse.ArgumentParser) -> None:
    """--scheduler and --workers, whose defaults are params base.scheduler and base.n_workers."""
    command.add_argument(
        "--scheduler",
        help="local, dask-local or tcp://host:8786 (default: params base.scheduler, else local)",
    )
    command.add_argument(
        "--workers", type=int, help="worker processes of dask-local (default: base.n_workers)"
    )


def scheduler_of(args: argparse.Namespace) -> tuple[str, int]:
    """(scheduler, workers): the options, else params `base` (the settings chain's params
    file), else in-process."""
    from churnops.compute.engine import DEFAULT_WORKERS, LOCAL, check
    from churnops.params import load_params
    from churnops.serving.settings import params_path

    path = params_path(getattr(args, "params", None))
    base = load_params(path)["base"] if path.is_file() else {}
    scheduler = check(args.scheduler or base.get("scheduler", LOCAL))
    workers = args.workers if args.workers is not None else base.get("n_workers", DEFAULT_WORKERS)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    return scheduler, workers
