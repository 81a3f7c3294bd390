"""Micro-batching for the prediction service: the requests that are ready in the same turn of the
event loop are scored in one call to the model and logged in one transaction.

Under load, a turn of the loop holds several parsed requests; one ONNX Runtime call and one
SQLite commit for all of them cost much less than one each. Alone, a request waits one turn of
the loop. Every request still gets its answer only after its predictions are committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from churnops.api.serving import LoadedModel
from churnops.prediction_log import Prediction, PredictionLog


class ScoreError(ValueError):
    """The model's score for a request's values is not a finite probability."""


@dataclass
class _Waiting:
    records: Sequence[Mapping[str, Any]]
    customer_ids: Sequence[str | None]
    request_id: str
    received_at: float
    done: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Scores and logs requests in groups. A failure is isolated to the requests that cause it:
    a request whose score is not finite fails alone (ScoreError), and when scoring or logging the
    group raises, each request is retried on its own.

    Args:
        model: the served model.
        log: the prediction log.
    """

    def __init__(self, model: LoadedModel, log: PredictionLog) -> None:
        self.model, self.log = model, log
        self._pending: list[_Waiting] = []

    async def predict(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        customer_ids: Sequence[str | None],
        request_id: str,
        received_at: float,
    ) -> np.ndarray:
        """Probabilities of one request's customers, once they are in the log.

        Args:
            records: the customers' checked feature values.
            customer_ids: their ids (None where not given), logged beside the inputs.
            received_at: `time.perf_counter()` when the request arrived (for its latency).

        Raises:
            ScoreError: a customer's score is not finite (nothing of the request is logged).
            what scoring or the log's commit raised for this request.
        """
        loop = asyncio.get_running_loop()
        waiting = _Waiting(records, customer_ids, request_id, received_at, loop.create_future())
        self._pending.append(waiting)
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await waiting.done

    def _flush(self) -> None:
        group, self._pending = self._pending, []
        try:
            self._serve(group)
        except Exception as exc:
            if len(group) == 1:
                _fail(group[0], exc)
                return
            for w in group:  # find the request(s) at fault; the others are served
                if w.done.done():
                    continue
                try:
                    self._serve([w])
                except Exception as single:
                    _fail(w, single)

    def _serve(self, group: list[_Waiting]) -> None:
        """Score the group in one call and log it in one commit; answer once committed."""
        group = [w for w in group if not w.done.done()]
        everyone = [r for w in group for r in w.records]
        try:
            probabilities = self.model.probabilities(everyone)
        except (ValueError, FloatingPointError, OverflowError):
            if len(group) > 1:
                raise  # each request is retried alone
            raise ScoreError(list(range(len(everyone)))) from None
        scored_at = time.perf_counter()
        threshold, version, engine = self.model.threshold, self.model.version, self.model.engine
        rows, answers, start = [], [], 0
        for w in group:
            mine = probabilities[start : start + len(w.records)]
            start += len(w.records)
            if not np.isfinite(mine).all():
                items = np.flatnonzero(~np.isfinite(mine)).tolist()
                _fail(w, ScoreError(items))
                continue
            latency_ms = (scored_at - w.received_at) * 1000
            rows += [
                Prediction(
                    request_id=w.request_id,
                    item=i,
                    customer_id=customer_id,
                    model_version=version,
                    engine=engine,
                    inputs=record,
                    probability=p,
                    decision=p >= threshold,
                    latency_ms=latency_ms,
                )
                for i, (record, customer_id, p) in enumerate(
                    zip(w.records, w.customer_ids, mine.tolist(), strict=True)
                )
            ]
            answers.append((w, mine))
        if rows:
            self.log.record(rows)
        for w, mine in answers:
            if not w.done.done():
                w.done.set_result(mine)


def _fail(waiting: _Waiting, exc: Exception) -> None:
    if not waiting.done.done():
        waiting.done.set_exception(exc)
