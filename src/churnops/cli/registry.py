"""`churnops registry`: versions and stages of the serving bundle as git tags (GTO)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def add(commands: Any) -> None:
    """Declare the command and its options."""
    registry = commands.add_parser("registry", help="model versions and stages (git tags, GTO)")
    sub = registry.add_subparsers(dest="registry_command", required=True)
    register = sub.add_parser("register", help="tag HEAD's bundle as a new version")
    register.add_argument("--version", help="vX.Y.Z (default: by the rule in docs/registry.md)")
    register.add_argument("-m", "--message", default="", help="why (kept in the tag)")
    promote = sub.add_parser("promote", help="assign a stage to a version")
    promote.add_argument("version", help="a registered version, e.g. v1.2.0")
    promote.add_argument("--stage", required=True, choices=("staging", "prod"))
    promote.add_argument("-m", "--message", default="", help="why (kept in the tag)")
    rollback = sub.add_parser("rollback", help="point a stage back at its previous version")
    rollback.add_argument("--stage", default="prod", choices=("staging", "prod"))
    rollback.add_argument("-m", "--message", default="", help="why (kept in the tag)")
    sub.add_parser("show", help="the latest version and the version in each stage")
    sub.add_parser("history", help="every registration and promotion: who, when, why")
    for parser in (promote, rollback):
        parser.add_argument(
            "--reload",
            metavar="URL",
            help="then tell the service at URL to reload (POST /admin/reload with the token in "
            "CHURNOPS_ADMIN_TOKEN)",
        )
    for parser in (registry, register, promote, rollback):
        parser.set_defaults(run=run)
    for name in ("show", "history"):
        sub.choices[name].set_defaults(run=run)
    registry.add_argument("--repo", type=Path, default=Path("."), help="the project (default .)")


def run(args: argparse.Namespace) -> int:

    from gto.exceptions import GTOException

    from churnops.registry import versions

    repo, command = args.repo, args.registry_command
    if not reload_possible(getattr(args, "reload", None), f"registry {command}"):
        return 2
    try:
        if command == "register":
            version, why = versions.register(repo, version=args.version, message=args.message)
            print(f"churnops registry: registered {versions.ARTIFACT}@{version} ({why})")
        elif command == "promote":
            versions.promote(repo, args.version, args.stage, message=args.message)
            print(f"churnops registry: {args.stage} is now {args.version}")
        elif command == "rollback":
            before, after = versions.rollback(repo, args.stage, message=args.message)
            print(f"churnops registry: {args.stage} rolled back from {before} to {after}")
        elif command == "show":
            shown = versions.show(repo)
            stages = ", ".join(f"{s} {v or '-'}" for s, v in shown["stages"].items())
            print(f"{shown['artifact']}: latest {shown['latest'] or '-'}; {stages}")
        else:
            for e in versions.history(repo):
                what = f"{e.event} {e.version}" + (f" -> {e.stage}" if e.stage else "")
                print(f"{e.when}  {what:<28} {e.author}  {e.tag}  {e.message}")
    except (versions.RegistryError, GTOException) as exc:
        print(f"churnops registry {command}: error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "reload", None):
        return reload_service(args.reload)
    return 0


def reload_possible(url: str | None, command: str) -> bool:
    """Whether a --reload asked for can be done: it needs the service's admin token. When it
    cannot, says so before anything is changed."""
    if url and not os.environ.get("CHURNOPS_ADMIN_TOKEN"):
        print(f"churnops {command}: error: --reload needs CHURNOPS_ADMIN_TOKEN (the service's "
              "admin token); nothing was changed", file=sys.stderr)  # fmt: skip
        return False
    return True


def reload_service(url: str) -> int:
    """POST /admin/reload; the service loads the stage's new version and says what it did."""
    import json
    import os
    import urllib.error
    import urllib.request

    token = os.environ.get("CHURNOPS_ADMIN_TOKEN")
    if not token:
        print("churnops registry: error: --reload needs CHURNOPS_ADMIN_TOKEN", file=sys.stderr)
        return 2
    request = urllib.request.Request(
        url.rstrip("/") + "/admin/reload",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            result = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        print(f"churnops registry: reload refused ({exc.code}): {detail}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"churnops registry: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(
        f"churnops registry: {url} reloaded: {result['from']} -> {result['to']} "
        f"(registry {result.get('registry_version')})"
    )
    return 0
