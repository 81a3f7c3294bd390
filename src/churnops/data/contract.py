"""The input contract: one set of rules, read from the training schema, that decides whether a
row is scored — applied by the API (row by row), by `churnops predict` and by the monitor
(vectorised), with the same reasons in the same words.

The rules:
- the id comes under the data's own id column name (e.g. `customerID`; `id` when the data has
  none); the target and the file's columns the model does not use (`ignored_columns`) may be
  present and are ignored, so a raw row of the data file is accepted; other keys are refused;
- numbers are JSON numbers or numeric text; blank text and null are missing; booleans, other text,
  NaN and ±Infinity are refused; a number outside its accepted band is refused (see
  `schema.infer_schema`: the training range widened by a tolerance, and at least the data file's
  range, never past the declared bounds); one outside the training range but inside the band is
  scored and flagged;
- categories are text, or numbers whose text form is a training category (0 -> "0");
  leading and trailing spaces are stripped everywhere (training included), blank text is missing;
  under policy `reject` an unseen category is refused (but one the data file holds, seen only in
  its test split, is flagged), under `flag` it is scored and flagged;
  a high-cardinality column pooled by prepare (`pooled` in the schema: its most frequent training
  categories and OTHER for the rest) takes any text, an unseen value counting as OTHER.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnops.data.reasons import Notes, has_surrogate, not_a_number, not_finite, shown, too_long
from churnops.data.schema import (
    NOT_FINITE,
    NUMBER,
    OTHER,
    DataError,
    category_codes,
    one_category_text,
    parse_numbers,
    text_column,
)
from churnops.data.words import Words

POLICIES = ("reject", "flag")
Checked = tuple[pd.DataFrame, pd.Series, pd.Series]  # typed features, reasons, warnings
TEXT_LIMIT = 200  # longest text accepted for a category or an id
STRAY_KEYS = 8  # unknown keys a record may have and still get one reason per key
ALLOWED_SHOWN = 5  # allowed categories listed in a reason (the count is always given)


@dataclass
class RecordCheck:
    """One checked record: the typed feature values, the id, and what is wrong or unusual."""

    values: dict[str, Any] = field(default_factory=dict)
    record_id: str | None = None
    # (field, the value received as it was, message)
    problems: list[tuple[str, Any, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Contract:
    """The rules for one schema and policy.

    Args:
        schema: `data/prepared/schema.json`.
        policy: `reject` (unseen categories and numbers outside the tolerance band refused) or
            `flag` (scored and flagged; only numbers outside the wider limit band refused).
    """

    schema: Mapping[str, Any]
    policy: str

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(
                f"unknown-value policy must be one of {list(POLICIES)}, got {self.policy!r}"
            )
        for name, info in self.features.items():
            if info["kind"] == "numeric" and "accept" not in info:
                raise DataError(
                    f"the schema's feature '{name}' has no accepted range (a schema.json from an "
                    "older churnops: run `dvc repro prepare`)"
                )

    @property
    def features(self) -> Mapping[str, Mapping[str, Any]]:
        return self.schema["features"]

    @property
    def id_column(self) -> str | None:
        return self.schema.get("id_column")

    @functools.cached_property
    def words(self) -> Words:
        return Words.from_schema(self.schema)

    @property
    def id_keys(self) -> tuple[str, ...]:
        """The keys a record may carry its id under: the data's id column (or `id`)."""
        return (self.words.id_field,)

    @property
    def target(self) -> str | None:
        return (self.schema.get("target") or {}).get("name")

    @property
    def ignored_keys(self) -> tuple[str, ...]:
        """Keys accepted and ignored: the target, and the file's columns outside the features."""
        return (*([self.target] if self.target else []), *self.schema.get("ignored_columns", []))

    @property
    def max_keys(self) -> int:
        """Keys past which a record is refused unread: the features, the id, the ignored keys and
        a few stray keys (each of those gets its own reason)."""
        return len(self.features) + 1 + len(self.ignored_keys) + STRAY_KEYS

    def band(self, name: str) -> tuple[float, float]:
        """The accepted [low, high] of a numeric feature under this policy (±inf when open)."""
        low, high = self.features[name]["accept"][self.policy]
        return (-math.inf if low is None else low, math.inf if high is None else high)

    # ---- reasons, worded once for both paths ------------------------------------------------

    def _outside(self, name: str, text: str) -> str:
        info = self.features[name]
        low, high = info["accept"][self.policy]
        why = (
            f"training range [{info['min']}, {info['max']}] widened by "
            f"prepare.range_{'tolerance' if self.policy == 'reject' else 'limit'}"
        )
        if info.get("file_range"):
            why += ", or to the data file's range [{}, {}]".format(*info["file_range"])
        bounds = {k: v for k, v in info.get("bounds", {}).items() if v is not None}
        if bounds:
            why += ", within the declared bounds " + ", ".join(
                f"{k} {v}" for k, v in bounds.items()
            )
        return f"{name}={text} is outside the accepted range [{low}, {high}] ({why})"

    def _unusual_number(self, name: str, text: str) -> str:
        info = self.features[name]
        return f"{name}={text} is outside the training range [{info['min']}, {info['max']}]"

    def _unseen(self, name: str, text: str) -> str:
        categories = self.features[name]["categories"]
        listed = ", ".join(repr(c) for c in categories[:ALLOWED_SHOWN])
        more = f", ... ({len(categories)} in all)" if len(categories) > ALLOWED_SHOWN else ""
        return f"{name}={text!r} was not seen in training (allowed: {listed}{more})"

    # ---- the row path (the API) -----------------------------------------------------------

    def check_record(self, record: Any) -> RecordCheck:
        """Check and type one record (a parsed JSON object)."""
        out = RecordCheck()
        if not isinstance(record, Mapping):
            out.problems.append(("body", record, f"each {self.words.entity} must be a JSON object"))
            return out
        if len(record) > self.max_keys:
            extra = [shown(k) for k in record if k not in self.features][:5]  # the first few
            message = (
                f"a {self.words.entity} has {len(self.features)} features, got {len(record)} "
                f"keys (refused unread above {self.max_keys})"
            )
            out.problems.append(("body", extra, message))
            return out
        self._check_id(record, out)
        known = {*self.features, *self.id_keys, *self.ignored_keys}
        for key in record:
            if key not in known:
                close = difflib.get_close_matches(str(key), list(self.features), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                out.problems.append((shown(key), record[key], f"unknown field{hint}"))
        for name, info in self.features.items():
            if name not in record:
                out.problems.append((name, None, "field required (send null for a missing value)"))
                continue
            value = record[name]
            if info["kind"] == "numeric":
                out.values[name] = self._number(name, value, out)
            else:
                out.values[name] = self._category(name, value, out)
        return out

    def _check_id(self, record: Mapping[str, Any], out: RecordCheck) -> None:
        key = self.words.id_field
        if key not in record:
            return
        value = record[key]
        if value is None or value == "":
            return
        if isinstance(value, bool) or not isinstance(value, str | int):
            out.problems.append((key, value, "the id must be text or an integer"))
            return
        text = str(value).strip()
        if has_surrogate(text):
            out.problems.append((key, value, "is not valid Unicode text"))
        elif len(text) > TEXT_LIMIT:
            out.problems.append((key, value, too_long(key, len(text), TEXT_LIMIT)))
        else:
            out.record_id = text or None

    def _number(self, name: str, value: Any, out: RecordCheck) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            out.problems.append((name, value, f"{name} must be a number, got {shown(value)}"))
            return None
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if NOT_FINITE.fullmatch(text):
                out.problems.append((name, value, not_finite(name, shown(value))))
                return None
            if not NUMBER.fullmatch(text):
                out.problems.append((name, value, not_a_number(name, shown(value))))
                return None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            out.problems.append((name, value, not_finite(name, shown(value))))
            return None
        low, high = self.band(name)
        info = self.features[name]
        if not low <= number <= high:
            out.problems.append((name, value, self._outside(name, shown(value))))
            return None
        if info["min"] is not None and not info["min"] <= number <= info["max"]:
            out.warnings.append(self._unusual_number(name, shown(value)))
        return number

    def _category(self, name: str, value: Any, out: RecordCheck) -> str | None:
        if value is None:
            return None
        if isinstance(value, float) and not math.isfinite(value):
            out.problems.append((name, value, not_finite(name, shown(value))))
            return None
        if not isinstance(value, str | int | float):
            out.problems.append(
                (name, value, f"{name} must be text or a number, got {shown(value)}")
            )
            return None
        if isinstance(value, str):
            if has_surrogate(value):
                out.problems.append((name, value, "is not valid Unicode text"))
                return None
            if len(value) > TEXT_LIMIT:
                out.problems.append((name, value, too_long(name, len(value), TEXT_LIMIT)))
                return None
        text = one_category_text(value)
        if text is None:
            return None
        if text not in self._categories[name]:
            if self.features[name].get("pooled"):
                return OTHER
            if self.policy == "reject" and text not in self._in_file[name]:
                out.problems.append((name, value, self._unseen(name, text)))
                return None
            out.warnings.append(self._unseen(name, text))
        return text

    @functools.cached_property
    def _categories(self) -> dict[str, frozenset[str]]:
        """Each categorical feature's training categories, as a set."""
        kinds = self.features.items()
        return {n: frozenset(i["categories"]) for n, i in kinds if i["kind"] == "categorical"}

    @functools.cached_property
    def _in_file(self) -> dict[str, frozenset[str]]:
        """Categories of the data file that training never saw (the test split's): flagged."""
        return {n: frozenset(i.get("file_only", ())) for n, i in self.features.items()}

    # ---- the vectorised path (batch scoring, the monitor) ---------------------------------

    def check_frame(self, rows: pd.DataFrame, *, categorical: bool = False) -> Checked:
        """Type the feature columns of a batch and give each row's reasons.

        Args:
            categorical: categories as Categorical columns, not object text (same values).

        Returns:
            (typed features: float64 numbers, text categories, refused values left as read;
            per row the refusal reasons joined by "; " ("" when the row is accepted);
            per row the warnings joined the same way).

        Raises:
            DataError: a feature column is absent, naming it and the columns present.
        """
        absent = [c for c in self.features if c not in rows]
        if absent:
            raise DataError(f"input is missing feature column(s) {absent}; it has {list(rows)}")
        typed = pd.DataFrame(index=rows.index)
        reasons = Notes(rows.index)
        warnings = Notes(rows.index)
        for name, info in self.features.items():
            values = rows[name]
            if info["kind"] == "numeric":
                typed[name] = self._numbers(name, values, reasons, warnings)
            else:
                typed[name] = self._texts(name, values, reasons, warnings, categorical)
        return typed, reasons.joined(), warnings.joined()

    def _numbers(self, name: str, values: pd.Series, reasons: Notes, warnings: Notes) -> pd.Series:
        if pd.api.types.is_bool_dtype(values):
            reasons.add(values.notna(), values, lambda t: f"{name} must be a number, got {t}")
            return pd.Series(np.nan, index=values.index)
        numbers, unreadable, infinite = parse_numbers(values)
        reasons.add(unreadable, values, lambda t: not_a_number(name, t))
        reasons.add(infinite, values, lambda t: not_finite(name, t))
        low, high = self.band(name)
        info = self.features[name]
        outside = numbers.notna() & ((numbers < low) | (numbers > high))
        reasons.add(outside, values, lambda t: self._outside(name, t))
        if info["min"] is not None:
            unusual = (
                numbers.notna() & ~outside & ((numbers < info["min"]) | (numbers > info["max"]))
            )
            warnings.add(unusual, values, lambda t: self._unusual_number(name, t))
        return numbers

    def _texts(
        self, name: str, values: pd.Series, reasons: Notes, warnings: Notes, categorical: bool
    ) -> pd.Series:
        # every test on the distinct values, then spread to the rows by their codes
        codes, texts = category_codes(values)
        sizes = np.array([0 if t is None else len(t) for t in texts] + [0])
        lengths = pd.Series(sizes[codes], index=values.index)
        reasons.add(lengths > TEXT_LIMIT, lengths, lambda n: too_long(name, int(n), TEXT_LIMIT))
        allowed = self._categories[name]
        new = [t is not None and len(t) <= TEXT_LIMIT and t not in allowed for t in texts]
        unseen = pd.Series(np.array([*new, False])[codes], index=values.index)
        pooled = bool(self.features[name].get("pooled"))
        if pooled:  # unseen values of a pooled column are its OTHER category
            texts = [OTHER if u else t for t, u in zip(texts, new, strict=True)]
        text = text_column(codes, texts, values, categorical=categorical)
        if not pooled:
            flag = [t in self._in_file[name] or self.policy == "flag" for t in texts]
            flagged = unseen & pd.Series(np.array([*flag, False])[codes], index=values.index)
            reasons.add(unseen & ~flagged, text, lambda t: self._unseen(name, t))
            warnings.add(flagged, text, lambda t: self._unseen(name, t))
        return text
