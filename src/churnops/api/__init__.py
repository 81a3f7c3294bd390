"""The prediction service: FastAPI app, request models generated from the training schema."""
