"""Alert delivery: the monitor's fired alerts POSTed to a webhook as generic JSON or as a
Slack-compatible message, with a timeout per attempt and retries with backoff. Delivery never
fails the monitor: what happened is returned (and the stage appends it to a log)."""

from __future__ import annotations

import datetime
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from churnops.monitoring.alerts import LEVELS

URL_ENV = "CHURNOPS_ALERT_WEBHOOK"  # overrides params monitor.webhook.url (a URL is a secret)


def url_of(settings: Mapping[str, Any]) -> str | None:
    """The webhook's URL: CHURNOPS_ALERT_WEBHOOK, else params `monitor.webhook.url`."""
    return os.environ.get(URL_ENV) or settings.get("url")


def due(fired: Mapping[str, Any], min_level: str) -> bool:
    """Whether the batch's highest alert level reaches `min_level`."""
    level = fired.get("level")
    return level is not None and LEVELS.index(level) >= LEVELS.index(min_level)


def payload(
    fired: Mapping[str, Any], decision: Mapping[str, Any], *, fmt: str, context: Mapping[str, Any]
) -> dict[str, Any]:
    """The message: `json` (the alerts, the retraining decision and `context` as they are) or
    `slack` (a `text` summary with one line per alert, which Slack's incoming webhooks and most
    chat tools accept)."""
    if fmt == "json":
        return {
            "source": "churnops monitor",
            "level": fired["level"],
            "counts": fired["counts"],
            "alerts": fired["alerts"],
            "retrain": decision.get("retrain"),
            "triggers": decision.get("triggers", {}),
            **context,
        }
    counts = ", ".join(f"{n} {level}" for level, n in fired["counts"].items() if n)
    where = ", ".join(f"{k} {v}" for k, v in context.items())
    lines = [f"*churnops monitor: {fired['level'].upper()}* ({counts}; {where})"]
    for alert in fired["alerts"]:
        columns = f" [{', '.join(alert['columns'])}]" if alert["columns"] else ""
        lines.append(
            f"- {alert['level']}: {alert['rule']}: {alert['metric']} {alert['observed']} "
            f"{alert['condition']}{columns}"
        )
    if decision.get("retrain"):
        lines.append(f"Retraining recommended: {', '.join(decision.get('triggers', {}))}")
    return {"text": "\n".join(lines)}


def deliver(
    url: str,
    message: Mapping[str, Any],
    *,
    timeout: float,
    retries: int,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST `message` as JSON; retry on a network error, a timeout, 429 or a 5xx, up to
    `retries` more times, waiting `backoff` x 2^attempt between. Never raises: returns
    `delivered`, the attempts and the last status or error."""
    body = json.dumps(message).encode()
    result: dict[str, Any] = {"delivered": False, "attempts": 0, "status": None, "error": None}
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        result["attempts"] = attempt + 1
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                result.update(delivered=True, status=answer.status, error=None)
                return result
        except urllib.error.HTTPError as exc:
            result.update(status=exc.code, error=f"HTTP {exc.code}")
            if exc.code != 429 and exc.code < 500:
                return result  # the receiver refuses this message: sending it again will not help
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            result.update(status=None, error=f"{type(exc).__name__}: {reason}")
    return result


def notify(
    fired: Mapping[str, Any],
    decision: Mapping[str, Any],
    settings: Mapping[str, Any] | None,
    context: Mapping[str, Any],
) -> dict[str, Any] | None:
    """Deliver the batch's alerts when a webhook is configured and the level is due; what was
    done (never the URL, which may hold a token), or None when nothing was to be sent."""
    settings = settings or {}
    url = url_of(settings)
    if not url or not due(fired, settings.get("min_level", "warning")):
        return None
    fmt = settings.get("format", "json")
    message = payload(fired, decision, fmt=fmt, context=context)
    result = deliver(
        url,
        message,
        timeout=float(settings.get("timeout_seconds", 5)),
        retries=int(settings.get("retries", 3)),
    )
    return {"level": fired["level"], "format": fmt, **context, **result}


def record(sent: Mapping[str, Any], path: Path) -> None:
    """Append one delivery, with its UTC time, to a JSON-lines log (kept out of the pipeline's
    outputs: a delivery is an event, not a result)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps({"at": at, **sent}) + "\n")
