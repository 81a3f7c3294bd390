"""The service's routes by concern: status (health, readiness, the model), predictions, outcomes."""
