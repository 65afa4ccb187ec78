"""Custom actions: guided flows (guide.py engine, actions.py adapters), content loading."""
