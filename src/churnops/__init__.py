"""churnops: a data-versioned, reproducible machine-learning lifecycle for customer churn."""

__version__ = "0.1.0"
