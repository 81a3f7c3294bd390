"""Data: the raw file's schema and cleaning, data quality, exploration, the input contract."""
