"""Setting up a project for a new data set (`churnops init`)."""
