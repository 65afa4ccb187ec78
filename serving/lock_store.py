"""Rasa's Redis lock store, with each change of a conversation's lock made atomic.

Several Rasa servers share one Redis lock store so that the turns of one conversation
are handled one at a time, in order, whichever server receives them. Rasa Open Source
3.6's `RedisLockStore` keeps each conversation's `TicketLock` as one JSON value and
changes it by GET, modify, SET, with nothing in between to stop another server
(RasaHQ/rasa#9213; the fix, `ConcurrentRedisLockStore`, exists only in Rasa Pro).
Two servers taking a ticket at the same moment can then both get the same number and
process the same conversation at once (the tracker store then keeps a mix of the two
turns), or one server can delete the lock just after another took a ticket (that
message fails with "Could not acquire lock"). tests/reliability/test_scaleout.py
showed the second within a few rounds of ten simultaneous messages.

This class keeps Rasa's ticket protocol, its data in Redis and its configuration, and
only wraps each read-modify-write (take a ticket, drop expired tickets, give a ticket
back and delete the lock when no one waits) in a Redis WATCH/MULTI transaction, retried
when another server changed the lock in between. Use it in an endpoints file with
`type: serving.lock_store.AtomicRedisLockStore` and the usual redis lock store keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# (lock after the change or None, delete the key?, value to return)
Change = Callable[[TicketLock | None], tuple[TicketLock | None, bool, Any]]


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store named by its module path
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _transact(self, conversation_id: str, change: Change) -> Any:
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, delete, result = change(lock)
                    pipe.multi()
                    if delete:
                        pipe.delete(key)
                    elif new_lock is not None:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed this lock in between: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: TicketLock | None) -> tuple[TicketLock, bool, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, False, lock.issue_ticket(lock_lifetime)

        try:
            return self._transact(conversation_id, take)
        except Exception as e:  # same contract as Rasa's: any store failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, bool, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, False, None

        self._transact(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def give_back(lock: TicketLock | None) -> tuple[TicketLock | None, bool, None]:
            if lock is None:
                return None, False, None
            lock.remove_ticket_for(ticket_number)
            return lock, not lock.is_someone_waiting(), None

        self._transact(conversation_id, give_back)
