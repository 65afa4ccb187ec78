"""Input channels: the REST channel the help page and tests use, with its guards."""
