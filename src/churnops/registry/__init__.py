"""The model registry: the serving bundle and its versions and stages as git tags (GTO)."""
