"""Custom NLU components for the Japanese pipeline (see config.yml)."""
