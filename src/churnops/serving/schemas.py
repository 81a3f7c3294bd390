"""Response models, the feedback request and the documented error answers. A customer in a
`/predict` request is checked by the input contract (`churnops.contract`), which also writes its
JSON Schema into the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator


class PredictionOut(BaseModel):
    probability: float
    decision: bool
    confidence: float
    customer_id: str | None = None
    warnings: list[str] = []


class PredictResponse(BaseModel):
    model_version: str
    threshold: float
    request_id: str
    predictions: list[PredictionOut]


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, and the field(s) and value(s) concerned (at most 20
    problems listed; `omitted` counts the rest)."""

    error: str
    detail: Any
    omitted: int | None = None


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give."""
    meaning = {
        400: "unparsable or too deeply nested JSON",
        404: "no logged prediction has that request or customer id",
        413: "body over the size limit",
        415: "content type is not application/json",
        422: "invalid values, naming each field and the value received",
        503: "model not ready, or the prediction log cannot be written",
    }
    return {c: {"model": ErrorBody, "description": meaning[c]} for c in codes}


class Feedback(BaseModel):
    """An observed outcome for one request (all its customers) or one customer."""

    model_config = ConfigDict(extra="forbid")
    request_id: str | None = Field(None, min_length=1, max_length=200)
    customer_id: str | None = Field(None, min_length=1, max_length=200)
    churned: StrictBool

    @field_validator("request_id", "customer_id")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("is not valid Unicode text") from None
        return value

    @model_validator(mode="after")
    def _one_key(self) -> Feedback:
        if (self.request_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of request_id and customer_id")
        return self


class FeedbackResponse(BaseModel):
    recorded: bool
    predictions: int  # logged predictions the outcome applies to
    outcomes: int  # outcomes recorded for this id so far, this one included (the latest wins)
