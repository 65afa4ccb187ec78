"""Custom NLU components for the Japanese pipeline (see config.yml)."""

from components import action_validation, rasa_patches

# Rasa imports this package when it loads config.yml's components (rasa run / shell /
# train / test): the action-server reply check then costs microseconds, not ~65 ms per
# call, and the patches of components/rasa_patches.py are in place.
action_validation.install()
rasa_patches.install()
