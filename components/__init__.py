"""Custom NLU components and the context-first policy of the pipeline (see config.yml)."""
