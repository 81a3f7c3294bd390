"""Response models, the feedback request and the documented error answers, named in the data's
own words (its id column, its target and labels). A record in a `/predict` request is checked by
the input contract (`churnops.contract`), which also writes its JSON Schema into the OpenAPI
document."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from churnops.data.contract import TEXT_LIMIT
from churnops.data.words import Words


class Contribution(BaseModel):
    input: str = Field(description='an input column, or several joined by " & "')
    value: Any = Field(description="its value in the request")
    contribution: float = Field(description="log-odds it adds to the baseline")


class Explanation(BaseModel):
    """Reason codes: baseline + contributions + others = log_odds."""

    method: str
    baseline: float = Field(description="log-odds of the mean training row")
    log_odds: float
    contributions: list[Contribution] = Field(description="the largest first (?top=, default 5)")
    others: float = Field(description="the sum of the contributions not listed")


def predict_response(words: Words) -> type[BaseModel]:
    """The /predict answer, its id field named as the data's id column."""
    prediction = create_model(
        "Prediction",
        probability=(float, Field(description=f"probability of {words.outcome}")),
        decision=(bool, Field(description="probability >= the decision threshold")),
        confidence=(float, Field(description="probability of the decision taken")),
        record_id=(
            str | None,
            Field(None, alias=words.id_field, description=f"the {words.entity}'s id, if given"),
        ),
        warnings=(list[str], Field([], description="values scored but unusual (policy flag)")),
        model_version=(str, Field(description="the model that scored it")),
        arm=(str | None, Field(None, description="its A/B arm (null outside an experiment)")),
        explanation=(
            Explanation | None,
            Field(None, description="with ?explain=true: why, in log-odds per input column"),
        ),
    )
    return create_model(
        "PredictResponse",
        model_version=(
            str | None,
            Field(description="the model that scored the request; null when A/B arms split it"),
        ),
        threshold=(float | None, Field(description="that model's decision threshold")),
        request_id=(str, ...),
        predictions=(list[prediction], ...),  # type: ignore[valid-type]
    )


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
        401: "no bearer token sent (the API token, or the admin token on admin routes)",
        403: "wrong token, or admin routes disabled",
        409: "the reload failed: the old model is still served",
        404: "no logged prediction has that request or record id",
        413: "body over the size limit",
        415: "content type is not application/json",
        422: "invalid values, naming each field and the value received",
        429: "this id already has as many outcomes as max_outcomes_per_id allows",
        503: "model not ready, or the prediction log cannot be written",
    }
    return {c: {"model": ErrorBody, "description": meaning[c]} for c in codes}


class _Feedback(BaseModel):
    """An observed outcome for one request (all its records) or one record id."""

    model_config = ConfigDict(extra="forbid")
    request_id: str | None = Field(None, min_length=1, max_length=TEXT_LIMIT)
    labels: ClassVar[tuple[str, str]]  # negative, positive
    id_field: ClassVar[str]

    @field_validator("request_id", "record_id", check_fields=False)
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("is not valid Unicode text") from None
        return value

    @field_validator("observed", mode="before", check_fields=False)
    @classmethod
    def _label(cls, value: Any) -> str:
        text = str(value).strip() if isinstance(value, str | int) else None
        if isinstance(value, bool) or text not in cls.labels:
            raise ValueError(f"must be one of the labels {list(cls.labels)}")
        return text

    @model_validator(mode="after")
    def _one_key(self) -> _Feedback:
        if (self.request_id is None) == (getattr(self, "record_id", None) is None):
            raise ValueError(f"give exactly one of request_id and {self.id_field}")
        return self

    @property
    def positive(self) -> bool:
        return self.observed == self.labels[1]  # type: ignore[attr-defined]


def feedback_model(words: Words, target: str, labels: list[str]) -> type[_Feedback]:
    """The /feedback body: `request_id` or the data's id column, and the target column with
    the label observed, as in the data (e.g. {"customerID": "7590-VHVEG", "Churn": "Yes"})."""
    model = create_model(
        "Feedback",
        __base__=_Feedback,
        record_id=(
            str | None,
            Field(None, alias=words.id_field, min_length=1, max_length=TEXT_LIMIT),
        ),
        observed=(
            str,
            Field(alias=target, description=f"the label observed: one of {labels}"),
        ),
    )
    model.labels = (str(labels[0]), str(labels[1]))
    model.id_field = words.id_field
    return model


class FeedbackResponse(BaseModel):
    recorded: bool
    predictions: int  # logged predictions the outcome applies to
    outcomes: int  # outcomes recorded for this id so far, this one included (the latest wins)
