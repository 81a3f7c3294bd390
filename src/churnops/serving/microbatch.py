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

from churnops.serving.artifact import LoadedModel
from churnops.serving.prediction_log import Prediction, PredictionLog

# a request's answer: its probabilities and the model that scored them, or the error
Outcome = tuple[np.ndarray, LoadedModel] | Exception


class ScoreError(ValueError):
    """The model's score for a request's values is not a finite probability."""


@dataclass
class Pending:
    """One request's records waiting to be scored (or scored outside the batcher)."""

    records: Sequence[Mapping[str, Any]]
    record_ids: Sequence[str | None]
    request_id: str
    received_at: float
    done: asyncio.Future | None = field(default=None, repr=False)
    items: Sequence[int] | None = None  # the records' positions in the request (default 0..n-1)


class MicroBatcher:
    """Scores and logs requests in groups. A failure is isolated to the requests that cause it:
    a request whose score is not finite fails alone (ScoreError), and when scoring or logging the
    group raises, each request is retried on its own. With the scikit-learn engine the group is
    scored in a worker thread; requests that arrive meanwhile form the next group.

    Args:
        model: the served model.
        log: the prediction log.
        arm: the A/B arm this batcher serves, and its experiment (written in each log row).
    """

    def __init__(
        self,
        model: LoadedModel,
        log: PredictionLog,
        *,
        arm: str | None = None,
        experiment: str | None = None,
    ) -> None:
        self.model, self.log = model, log
        self.arm, self.experiment = arm, experiment
        self._pending: list[Pending] = []
        # scikit-learn takes milliseconds per call: score off the event loop, one group at a
        # time, so /health and request parsing go on meanwhile; ONNX Runtime is faster than
        # the hand-off
        self.offload = model.engine == "sklearn"
        self._running: asyncio.Task | None = None

    def swap(self, model: LoadedModel) -> None:
        """Serve `model` from the next group on; a group already scoring finishes on its model."""
        self.model, self.offload = model, model.engine == "sklearn"

    async def predict(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        record_ids: Sequence[str | None],
        request_id: str,
        received_at: float,
    ) -> np.ndarray:
        """Probabilities of one request's records, once they are in the log (see `score`)."""
        probabilities, _ = await self.score(
            records, record_ids=record_ids, request_id=request_id, received_at=received_at
        )
        return probabilities

    async def score(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        record_ids: Sequence[str | None],
        request_id: str,
        received_at: float,
        items: Sequence[int] | None = None,
    ) -> tuple[np.ndarray, LoadedModel]:
        """Probabilities of one request's records, once they are in the log, and the model that
        scored them (the one named in the log, even if a reload swapped models meanwhile).

        Args:
            records: the checked feature values.
            record_ids: their ids (None where not given), logged beside the inputs.
            received_at: `time.perf_counter()` when the request arrived (for its latency).
            items: the records' positions in the request, when it is split between A/B arms.

        Raises:
            ScoreError: a record's score is not finite (nothing of the request is logged).
            what scoring or the log's commit raised for this request.
        """
        loop = asyncio.get_running_loop()
        waiting = Pending(records, record_ids, request_id, received_at, loop.create_future(), items)
        self._pending.append(waiting)
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await waiting.done

    def _flush(self) -> None:
        if self._running:  # the group in flight flushes again when it is done
            return
        group, self._pending = self._pending, []
        if not self.offload:
            self._settle(self._outcomes(group))
            return
        self._running = asyncio.get_running_loop().create_task(self._offloaded(group))

    async def _offloaded(self, group: list[Pending]) -> None:
        try:
            self._settle(await asyncio.to_thread(self._outcomes, group))
        finally:
            self._running = None
            if self._pending:
                self._flush()

    @staticmethod
    def _settle(outcomes: list[tuple[Pending, Outcome]]) -> None:
        """Answer each waiting request (on the event loop's thread)."""
        for w, outcome in outcomes:
            if w.done.done():
                continue
            if isinstance(outcome, Exception):
                w.done.set_exception(outcome)
            else:
                w.done.set_result(outcome)

    def _outcomes(self, group: list[Pending]) -> list[tuple[Pending, Outcome]]:
        """Each request's probabilities or error: the group at once, or, when that raises, each
        request alone (so the error reaches only the requests that cause it)."""
        try:
            return self._serve(group)
        except Exception as exc:
            if len(group) == 1:
                return [(group[0], exc)]
        outcomes: list[tuple[Pending, Outcome]] = []
        for w in group:
            try:
                outcomes += self._serve([w])
            except Exception as single:
                outcomes.append((w, single))
        return outcomes

    def rows(
        self,
        request: Pending,
        probabilities: np.ndarray,
        model: LoadedModel,
        *,
        latency_ms: float,
    ) -> list[Prediction]:
        """The log rows of one request's records scored by `model` (on this batcher's arm)."""
        threshold, version, engine = model.threshold, model.version, model.engine
        return [
            Prediction(
                request_id=request.request_id,
                item=i if request.items is None else request.items[i],
                record_id=record_id,
                model_version=version,
                engine=engine,
                inputs=record,
                probability=p,
                decision=p >= threshold,
                latency_ms=latency_ms,
                arm=self.arm,
                experiment=self.experiment,
            )
            for i, (record, record_id, p) in enumerate(
                zip(request.records, request.record_ids, probabilities.tolist(), strict=True)
            )
        ]

    def _serve(self, group: list[Pending]) -> list[tuple[Pending, Outcome]]:
        """Score the group in one call and log it in one commit; the answers hold only once
        the commit returned."""
        everyone = [r for w in group for r in w.records]
        model = self.model  # the whole group on one model, whatever a reload does meanwhile
        try:
            probabilities = model.probabilities(everyone)
        except (ValueError, FloatingPointError, OverflowError):
            if len(group) > 1:
                raise  # each request is retried alone
            raise ScoreError(list(range(len(everyone)))) from None
        scored_at = time.perf_counter()
        rows, outcomes, start = [], [], 0
        for w in group:
            mine = probabilities[start : start + len(w.records)]
            start += len(w.records)
            if not np.isfinite(mine).all():
                outcomes.append((w, ScoreError(np.flatnonzero(~np.isfinite(mine)).tolist())))
                continue
            rows += self.rows(w, mine, model, latency_ms=(scored_at - w.received_at) * 1000)
            outcomes.append((w, (mine, model)))
        if rows:
            self.log.record(rows)
        return outcomes
