# Sourced by every project script: one place for the environment the tools run in.
export RASA_TELEMETRY_ENABLED=false          # a government help desk must not phone home
export TF_CPP_MIN_LOG_LEVEL=2                # TensorFlow's start-up chatter hides real errors
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="ignore::DeprecationWarning,ignore::PendingDeprecationWarning,ignore::FutureWarning,ignore::UserWarning"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONHASHSEED=0
export PYTHONPATH="${PROJECT_ROOT:-$(pwd)}${PYTHONPATH:+:$PYTHONPATH}"
