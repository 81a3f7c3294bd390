"""Monitoring: batch checks, drift statistics, alert rules and decisions, drills, the
Evidently page."""
