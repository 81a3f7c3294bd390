"""The words the reports and the API use for the data: what one row is and what the model
predicts, from the `problem` section of params, with neutral defaults built from the data's own
target, label and id column (so nothing speaks of customers or churn unless params say so)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# the `problem` keys that name things; the rest of the section is free text for the model card
WORD_KEYS = ("entity", "entities", "outcome", "verb", "positives")
# the API's id field when the data has no id column
DEFAULT_ID_FIELD = "id"


@dataclass(frozen=True)
class Words:
    """entity/entities: what a row is ("customer"/"customers"); outcome: the predicted event as a
    noun ("churn": "churn model", "churn rate"); verb: it as a verb phrase ("churn": "customers
    who churn"); positives: the rows that have it ("churners"); id_field: the API's id field."""

    entity: str
    entities: str
    outcome: str
    verb: str
    positives: str
    id_field: str

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Words:
        base, problem = params["base"], params.get("problem") or {}
        target, positive = base["target"], base["positive_label"]
        entity = problem.get("entity") or "record"
        entities = problem.get("entities") or f"{entity}s"
        outcome = problem.get("outcome") or f"{target}={positive}"
        return cls(
            entity=entity,
            entities=entities,
            outcome=outcome,
            verb=problem.get("verb") or f"have {target}={positive}",
            positives=problem.get("positives") or f"{entities} with {outcome}",
            id_field=base.get("id_column") or DEFAULT_ID_FIELD,
        )

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any]) -> Words:
        """The words the prepare stage wrote into the schema (neutral ones for an older schema)."""
        if "words" in schema:
            return cls(**schema["words"])
        target = schema["target"]
        base = {
            "target": target["name"],
            "positive_label": target["labels"][1],
            "id_column": schema.get("id_column"),
        }
        return cls.from_params({"base": base})

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
