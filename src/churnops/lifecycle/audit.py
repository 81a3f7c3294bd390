"""The audit trail in one list: the registry's events from its git tags (registrations,
promotions, rollbacks - a rollback is a stage given an older version than it had) and the
prediction log's audit table (erasures, purges), each with when, who, why and what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from churnops.registry import versions
from churnops.serving import log_retention


def registry_events(repo: Path) -> list[dict[str, Any]]:
    """Registrations and stage assignments, a rollback named as such."""
    out, in_stage = [], {}
    for e in versions.history(repo):
        if e.event == "registration":
            action, what = "registration", e.version
        else:
            before = in_stage.get(e.stage)
            older = before is not None and _number(e.version) < _number(before)
            action = "rollback" if older else "promotion"
            what = f"{e.version} -> {e.stage}" + (f" (was {before})" if before else "")
            in_stage[e.stage] = e.version
        out.append(
            {"when": e.when, "action": action, "who": e.author, "why": e.message,
             "what": what, "source": f"git tag {e.tag}"}
        )  # fmt: skip
    return out


def log_events(log: Path) -> list[dict[str, Any]]:
    """The prediction log's audit rows."""
    return [
        {
            "when": row["at"],
            "action": row["action"],
            "who": row["who"],
            "why": row["why"],
            "what": ", ".join(f"{k} {v}" for k, v in sorted(row["details"].items())),
            "source": f"{log} audit table",
        }
        for row in log_retention.audit_rows(log)
    ]


def trail(repo: Path, log: Path | None) -> list[dict[str, Any]]:
    """Every event, oldest first."""
    events = registry_events(repo) + (log_events(log) if log is not None else [])
    return sorted(events, key=lambda e: _utc(e["when"]))


def _number(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.lstrip("v").split("."))


def _utc(when: str) -> str:
    import datetime

    moment = datetime.datetime.fromisoformat(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat()
