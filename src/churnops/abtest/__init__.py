"""A/B tests of models in production: the arms' assignment and the statistics."""
