"""The lifecycle's loops over the whole project: retraining from production feedback, and the
monitoring dashboard over time."""
