"""`make insights`: what users asked that the assistant could not answer, outcomes and
drop-offs, read from the tracker store; and the purge of old conversations."""
