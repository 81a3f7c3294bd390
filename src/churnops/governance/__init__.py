"""Governance: privacy of what the service stores (pseudonymised ids, PII never stored raw)."""
