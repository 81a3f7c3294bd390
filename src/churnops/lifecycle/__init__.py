"""The lifecycle's loops over the whole project: retraining from production feedback, the
monitoring dashboard over time, and the audit trail."""
