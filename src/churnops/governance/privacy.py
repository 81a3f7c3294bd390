"""What the prediction log may hold of a person.

Pseudonymised ids: a record id is stored as a keyed HMAC-SHA256 (`hmac:` and 64 hex digits),
so the log never holds the raw id while feedback, A/B joins and erasure still find every row of
one customer (the same id and key give the same token). The key comes from an environment
variable or a file outside the repository, never from params; with pseudonymisation on and no
key, the service refuses to start.

Withheld inputs: the columns of `governance.pii_columns` are scored but stored as null, so
their values never reach the log's file, nor its export; the monitor leaves them out of its
checks and takes the served probability instead of re-scoring.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "hmac:"
MIN_KEY_BYTES = 16


class MissingKey(ValueError):
    """Pseudonymisation is on and no usable key is configured."""


@dataclass(frozen=True)
class Privacy:
    """How ids and inputs are stored. `key` None: ids as they are; `withheld`: the input
    columns stored as null."""

    key: bytes | None = None
    withheld: frozenset[str] = frozenset()

    def stored_inputs(self, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        """The inputs as the log keeps them: the withheld columns null (present, so the row
        keeps its schema's shape)."""
        if not self.withheld:
            return inputs
        return {k: (None if k in self.withheld else v) for k, v in inputs.items()}

    def pseudonym(self, record_id: str | None) -> str | None:
        """The stored form of an id: its keyed HMAC when pseudonymising, else the id itself
        (None stays None)."""
        if record_id is None or self.key is None:
            return record_id
        digest = hmac.new(self.key, record_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest


def load_key(*, env: str, file: str | None, environ: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key: the environment variable `env`, else the file `file` (outside the
    repository: its first line, stripped).

    Raises:
        MissingKey: neither gives a key of at least MIN_KEY_BYTES bytes, naming both sources.
    """
    environ = os.environ if environ is None else environ
    if environ.get(env):
        key, source = environ[env].encode("utf-8"), f"${env}"
    elif file:
        path = Path(file).expanduser()
        try:
            key, source = path.read_text(encoding="utf-8").strip().encode("utf-8"), str(path)
        except OSError as exc:
            raise MissingKey(
                f"governance.pseudonymize_ids is on but the key file {path} cannot be read "
                f"({exc.strerror}) and ${env} is not set"
            ) from None
    else:
        raise MissingKey(
            f"governance.pseudonymize_ids is on but no key is set: set ${env} (or "
            f"governance.key_file, a file outside the repository) to a secret of "
            f"{MIN_KEY_BYTES} characters or more"
        )
    if len(key) < MIN_KEY_BYTES:
        raise MissingKey(
            f"the HMAC key from {source} has {len(key)} bytes, fewer than {MIN_KEY_BYTES}"
        )
    return key


def from_params(governance: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Privacy:
    """The privacy of params `governance` (the key loaded when pseudonymising).

    Raises:
        MissingKey: pseudonymisation on and no key.
    """
    key = (
        load_key(env=governance["key_env"], file=governance["key_file"], environ=environ)
        if governance["pseudonymize_ids"]
        else None
    )
    return Privacy(key=key, withheld=frozenset(governance.get("pii_columns") or ()))
