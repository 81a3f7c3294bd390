"""Reporting: the model card, the lifecycle page, figures."""
