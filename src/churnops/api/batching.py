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


@dataclass
class _Waiting:
    records: Sequence[Mapping[str, Any]]
    request_id: str
    received_at: float
    done: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Scores and logs requests in groups.

    Args:
        model: the served model.
        log: the prediction log.
        id_field: the request field holding the customer id (logged apart from the inputs).
    """

    def __init__(self, model: LoadedModel, log: PredictionLog, *, id_field: str) -> None:
        self.model, self.log, self.id_field = model, log, id_field
        self._pending: list[_Waiting] = []

    async def predict(
        self, records: Sequence[Mapping[str, Any]], *, request_id: str, received_at: float
    ) -> np.ndarray:
        """Probabilities of one request's customers, once they are in the log.

        Args:
            received_at: `time.perf_counter()` when the request arrived (for its latency).

        Raises:
            what scoring or the log's commit raised (for every request of the group).
        """
        loop = asyncio.get_running_loop()
        waiting = _Waiting(records, request_id, received_at, loop.create_future())
        self._pending.append(waiting)
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await waiting.done

    def _flush(self) -> None:
        group, self._pending = self._pending, []
        try:
            everyone = [r for w in group for r in w.records]
            probabilities = self.model.probabilities(everyone)
            scored_at = time.perf_counter()
            threshold, version, engine = self.model.threshold, self.model.version, self.model.engine
            rows, answers, start = [], [], 0
            for w in group:
                mine = probabilities[start : start + len(w.records)]
                start += len(w.records)
                latency_ms = (scored_at - w.received_at) * 1000
                rows += [
                    Prediction(
                        request_id=w.request_id,
                        item=i,
                        customer_id=record.get(self.id_field),
                        model_version=version,
                        engine=engine,
                        inputs={k: v for k, v in record.items() if k != self.id_field},
                        probability=p,
                        decision=p >= threshold,
                        latency_ms=latency_ms,
                    )
                    for i, (record, p) in enumerate(zip(w.records, mine.tolist(), strict=True))
                ]
                answers.append(mine)
            self.log.record(rows)
        except Exception as exc:  # every request of the group fails with the reason
            for w in group:
                if not w.done.done():
                    w.done.set_exception(exc)
            return
        for w, mine in zip(group, answers, strict=True):
            if not w.done.done():
                w.done.set_result(mine)
