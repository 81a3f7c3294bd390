"""Serving: the verified model artifact, the compiled fast path, the API, micro-batching, the
prediction log, batch scoring."""
