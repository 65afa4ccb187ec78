"""The Rasa server side: the REST channel, log masking, the Redis lock store, the
patches to Rasa's internals, and the harness that starts the servers as `make run` does.

`python -m serving <rasa arguments>` is `rasa` with the patches installed first."""
