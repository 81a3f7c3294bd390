"""Modelling: features, candidates and selection, evaluation, business value, fairness,
importance."""
