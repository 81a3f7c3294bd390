"""Request and response models generated from `data/prepared/schema.json`, so any data set the
pipeline trains on is served without hand-written models.

Numeric features are finite floats (NaN and ±Infinity rejected); categorical features are text.
With policy `reject`, values outside the training range and unseen categories are 422 errors;
with policy `flag`, they are accepted and reported in the response's `warnings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model, model_validator

POLICIES = ("reject", "flag")


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
    """Every error answer: what went wrong, and the field(s) and value(s) concerned."""

    error: str
    detail: Any


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
    request_id: str | None = Field(None, max_length=200)
    customer_id: str | None = Field(None, max_length=200)
    churned: StrictBool

    @model_validator(mode="after")
    def _one_key(self) -> Feedback:
        if (self.request_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of request_id and customer_id")
        return self


class FeedbackResponse(BaseModel):
    recorded: bool
    predictions: int


def customer_model(schema: Mapping[str, Any], *, policy: str) -> type[BaseModel]:
    """A pydantic model with one field per feature, typed and constrained from the schema."""
    if policy not in POLICIES:
        raise ValueError(f"unknown-value policy must be one of {list(POLICIES)}, got {policy!r}")
    fields: dict[str, Any] = {
        "customer_id": (Annotated[str, Field(strict=True, max_length=200)] | None, Field(None))
    }
    for name, info in schema["features"].items():
        if info["kind"] == "numeric":
            bounds = (
                {"ge": info["min"], "le": info["max"]}
                if policy == "reject" and info["min"] is not None
                else {}
            )
            # strict: a JSON number (an integer is fine), not true/false or "5"
            number = Annotated[float, Field(strict=True, allow_inf_nan=False, **bounds)]
            fields[name] = (number | None, Field(...))
        elif policy == "reject":
            fields[name] = (Literal[tuple(info["categories"])] | None, Field(...))
        else:
            fields[name] = (Annotated[str, Field(strict=True, max_length=200)] | None, Field(...))
    return create_model("Customer", __config__=ConfigDict(extra="forbid"), **fields)


def unusual(record: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Warnings for values outside the training range or categories never seen in training."""
    notes = []
    for name, info in schema["features"].items():
        value = record.get(name)
        if value is None:
            continue
        if (
            info["kind"] == "numeric"
            and info["min"] is not None
            and not info["min"] <= value <= info["max"]
        ):
            notes.append(
                f"{name}={value} is outside the training range [{info['min']}, {info['max']}]"
            )
        elif info["kind"] == "categorical" and str(value) not in info["categories"]:
            notes.append(f"{name}={value!r} was not seen in training")
    return notes
