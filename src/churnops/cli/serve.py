"""`churnops serve`: the prediction service on uvicorn, its options passed to the workers as
CHURNOPS_* variables."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Any

from churnops.cli.common import SETTING_OF, from_settings
from churnops.serving.settings import settings_from_env


def add(commands: Any) -> None:
    """Declare the command and its options."""
    serve = commands.add_parser("serve", help="serve predictions over HTTP (FastAPI on uvicorn)")
    serve.add_argument("--host", default=os.environ.get("CHURNOPS_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CHURNOPS_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("CHURNOPS_WORKERS", "1")))
    serve.add_argument(
        "--keep-alive",
        type=float,
        default=float(os.environ.get("CHURNOPS_KEEP_ALIVE", "75")),
        help="seconds an idle connection is kept open (default 75; keep it above a load "
        "balancer's idle timeout: a server that closes first races with a client reusing the "
        "connection, and that request is lost)",
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="listen beyond this machine without an API token (CHURNOPS_API_TOKEN): anyone who "
        "reaches the port can send outcomes",
    )
    serve.add_argument("--model", help=f"model file ({from_settings('model')})")
    serve.add_argument("--meta", help=f"its metadata ({from_settings('meta')})")
    serve.add_argument("--schema", help=f"input schema ({from_settings('schema')})")
    serve.add_argument(
        "--policy",
        choices=("reject", "flag"),
        help=f"unseen categories / out-of-range values ({from_settings('policy')})",
    )
    serve.add_argument("--compiled", help=f"compiled model folder ({from_settings('compiled')})")
    serve.add_argument(
        "--engine",
        choices=("auto", "onnx", "sklearn"),
        help="auto: ONNX Runtime when the compiled model is verified, else scikit-learn "
        f"({from_settings('engine')})",
    )
    serve.add_argument("--log", help=f"prediction log ({from_settings('log')})")
    registry = serve.add_mutually_exclusive_group()
    registry.add_argument(
        "--stage",
        choices=("staging", "prod"),
        help="serve the registry's version in this stage (fetched by its tag, every file checked)",
    )
    registry.add_argument("--version", help="serve this registered version, e.g. v1.2.0")
    registry.add_argument(
        "--abtest",
        action="store_true",
        help="run the A/B experiment of params abtest: every arm's registry version fetched and "
        "checked, each customer id sent to its arm (docs/abtest.md)",
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from churnops.serving.auth import exposed
    from churnops.serving.service import privacy_of
    from churnops.serving.settings import ENV

    if args.stage or args.version or args.abtest:
        try:
            _from_registry(args) if not args.abtest else _experiment(args)
        except (RuntimeError, OSError, ValueError) as exc:
            print(f"churnops serve: error: {exc}", file=sys.stderr)
            return 2
    # the workers build the app from the environment (uvicorn's factory), so pass options there
    for option, field in SETTING_OF.items():
        if getattr(args, option):
            os.environ[ENV[field]] = str(getattr(args, option))
    os.environ[ENV["workers"]] = str(args.workers)
    from churnops.serving.metrics import MULTIPROC_ENV

    if args.workers > 1:  # every worker's metrics in one folder, collected by any scrape
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="churnops-metrics-")
    try:  # a bad setting fails here, naming it and the value, before any worker starts
        settings = settings_from_env()
        privacy_of(settings)  # pseudonymising without a key: refuse to start, saying why
        if exposed(args.host) and settings.api_token is None and not args.insecure:
            raise ValueError(
                f"--host {args.host} listens beyond this machine and no API token is set: "
                "anyone could send outcomes to /feedback. Set CHURNOPS_API_TOKEN (16 characters "
                "or more), or give --insecure to accept that"
            )
    except ValueError as exc:
        print(f"churnops serve: error: {exc}", file=sys.stderr)
        return 2
    try:
        uvicorn.run(
            "churnops.serving.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            timeout_keep_alive=args.keep_alive,
        )
    finally:
        if args.workers > 1:
            shutil.rmtree(os.environ.pop(MULTIPROC_ENV), ignore_errors=True)
    return 0


def _from_registry(args: argparse.Namespace) -> None:
    """Point the model options at the registry's bundle for --stage or --version."""
    from pathlib import Path

    from churnops.registry import bundle, versions
    from churnops.serving.settings import ENV

    given = [o for o in ("model", "meta", "schema", "compiled") if getattr(args, o)]
    if given:
        raise RuntimeError(f"--{given[0]} and --stage/--version both say which model: give one")
    folder = versions.fetch(Path("."), version=args.version, stage=args.stage)
    version = args.version or versions.in_stage(Path("."), args.stage)
    for option, path in bundle.paths(folder).items():
        setattr(args, option, str(path))
    os.environ[ENV["registry_version"]] = str(version)
    if args.stage:
        os.environ[ENV["registry_stage"]] = args.stage
    print(f"churnops serve: {versions.ARTIFACT}@{version} from {folder} (every file checked)")


def _experiment(args: argparse.Namespace) -> None:
    """Resolve params `abtest`: fetch and check each arm's bundle, write the experiment file,
    and point the model options at the control arm's bundle."""
    from pathlib import Path

    from churnops.config import load_params
    from churnops.registry import bundle, versions
    from churnops.serving import experiment
    from churnops.serving.settings import ENV, params_path

    given = [o for o in ("model", "meta", "schema", "compiled") if getattr(args, o)]
    if given:
        raise RuntimeError(f"--{given[0]} and --abtest both say which model: give one")
    config = load_params(params_path(None))["abtest"]
    if not config["name"]:
        raise RuntimeError("params abtest.name is null: name the experiment to run it")
    arms = []
    for arm in config["arms"]:
        version = arm.get("version") or versions.in_stage(Path("."), arm["stage"])
        if version is None:
            raise RuntimeError(f"arm {arm['name']!r}: no version is in stage {arm['stage']!r}")
        paths = bundle.paths(versions.fetch(Path("."), version=version))
        arms.append(
            {"name": arm["name"], "share": arm["share"], "registry_version": version}
            | {key: str(path) for key, path in paths.items()}
        )
        print(
            f"churnops serve: arm {arm['name']} ({arm['share']:.0%}): {versions.ARTIFACT}@{version}"
        )
    path = Path(".churnops") / "abtest" / f"{config['name']}.json"
    experiment.write(path, config["name"], config["salt"] or config["name"], arms)
    for option in ("model", "meta", "schema", "compiled"):
        setattr(args, option, arms[0][option])
    os.environ[ENV["experiment_path"]] = str(path.resolve())
    os.environ[ENV["registry_version"]] = arms[0]["registry_version"]
