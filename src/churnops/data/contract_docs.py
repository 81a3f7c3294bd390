"""The input contract described for people and tools: what each feature accepts and why (the
service's /model answer), and the JSON Schema of one record (its OpenAPI document), stating each
alternative the contract accepts (numeric text, a category's integer, blank text, either id)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from churnops.data.contract import TEXT_LIMIT, Contract
from churnops.data.schema import NUMBER, OTHER

_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")  # a category whose text is an integer's


def describe(contract: Contract) -> dict[str, Any]:
    """What each feature accepts under the contract's policy, and why (the /model answer)."""
    out: dict[str, Any] = {}
    for name, info in contract.features.items():
        if info["kind"] == "numeric":
            low, high = info["accept"][contract.policy]
            out[name] = {
                "kind": "numeric",
                "accepted_range": [low, high],
                "training_range": [info["min"], info["max"]],
                "bounds": info.get("bounds"),
            }
        else:
            out[name] = {"kind": "categorical", "categories": info["categories"]}
            if info.get("pooled"):
                out[name]["pooled"] = f"any other value counts as {OTHER!r}"
        out[name]["missing_share_in_training"] = info["missing_share"]
    return {
        "policy": contract.policy,
        "id_keys": list(contract.id_keys),
        "ignored_keys": list(contract.ignored_keys),
        "text": "leading and trailing spaces are stripped; blank text is a missing value",
        "tolerances": dict(contract.schema.get("contract", {})),
        "features": out,
    }


def json_schema(contract: Contract) -> dict[str, Any]:
    """The JSON Schema of one record (the OpenAPI document's request body)."""
    properties: dict[str, Any] = {}
    for key in contract.id_keys:
        properties[key] = {
            "anyOf": [
                {"type": "string", "maxLength": TEXT_LIMIT},
                {"type": "integer"},
                {"type": "null"},
            ],
            "description": f"the {contract.words.entity}'s id (optional; logged with the "
            "prediction, and the key its observed outcome can be sent under)",
        }
    for key in contract.ignored_keys:
        what = "the target column" if key == contract.target else "a column the model does not use"
        properties[key] = {"description": f"{what}: accepted and ignored"}
    for name, info in contract.features.items():
        if info["kind"] == "numeric":
            properties[name] = _numeric(info, contract.policy)
        elif info.get("pooled"):
            properties[name] = {
                "anyOf": [
                    {"type": "string", "maxLength": TEXT_LIMIT},
                    {"type": "number"},
                    {"type": "null"},
                ],
                "description": (
                    f"a high-cardinality category: the {len(info['categories']) - 1} most "
                    "frequent in training are kept, any other value counts as one 'other' category"
                ),
            }
        else:
            properties[name] = {
                "anyOf": [*_category_types(contract, info["categories"]), {"type": "null"}],
                "description": "a category; spaces around it are stripped",
            }
    schema: dict[str, Any] = {
        "type": "object",
        "title": contract.words.entity[:1].upper() + contract.words.entity[1:],
        "properties": properties,
        "required": list(contract.features),
        "additionalProperties": False,
    }
    return schema


def _numeric(info: Mapping[str, Any], policy: str) -> dict[str, Any]:
    """A numeric feature's property: a number within the accepted band, or numeric text."""
    low, high = info["accept"][policy]
    number: dict[str, Any] = {"type": "number"}
    if low is not None:
        number["minimum"] = low
    if high is not None:
        number["maximum"] = high
    return {
        "anyOf": [
            number,
            {"type": "string", "pattern": rf"^\s*({NUMBER.pattern})?\s*$"},
            {"type": "null"},
        ],
        "description": (
            f"training range [{info['min']}, {info['max']}]; values outside it but "
            f"within [{low}, {high}] are scored and flagged; numeric text is read as "
            "its number (within the same range), blank text as missing"
        ),
    }


def _category_types(contract: Contract, categories: list[str]) -> list[dict[str, Any]]:
    """What a category may be sent as: text (any, under `flag`), or a number whose text
    is a category (0 for "0")."""
    if contract.policy == "flag":
        return [{"type": "string", "maxLength": TEXT_LIMIT}, {"type": "number"}]
    whole = sorted(int(c) for c in categories if _INTEGER.fullmatch(c))
    # the same categories with spaces around them, or blank text (a missing value)
    padded = r"^\s*(?:" + "|".join(re.escape(c) for c in categories) + r")?\s*$"
    return [
        {"type": "string", "enum": categories},
        {"type": "string", "pattern": padded},
        *([{"type": "integer", "enum": whole}] if whole else []),
    ]
