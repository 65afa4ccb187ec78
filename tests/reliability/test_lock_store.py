"""The Redis lock store under contention, without Rasa servers: several clients (as
several Rasa servers would) take and give back tickets for one conversation at once.
No ticket number may be held by two clients at once, and no ticket may vanish from
Redis while its client waits."""

from __future__ import annotations

import threading

from rasa.core.lock_store import RedisLockStore

from serving.lock_store import AtomicRedisLockStore
from tests.reliability.checks import new_sender, write_figures

CLIENTS, TICKETS_EACH = 4, 150


def hammer(store_class, services) -> dict:
    v = services.values
    conversation = new_sender("lock")
    stores = [
        store_class(
            host=v["LOCK_STORE_HOST"], port=int(v["LOCK_STORE_PORT"]), password=v["LOCK_STORE_PASSWORD"], db=1, key_prefix="locktest"
        )
        for _ in range(CLIENTS)
    ]
    issued: list[int] = []
    lost: list[int] = []
    shared: list[int] = []
    errors: list[str] = []
    held: set[int] = set()  # ticket numbers some client holds right now
    guard = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(store) -> None:
        start.wait()
        for _ in range(TICKETS_EACH):
            try:
                ticket = store.issue_ticket(conversation, 60)
                with guard:
                    issued.append(ticket)
                    if ticket in held:
                        shared.append(ticket)  # two clients hold the same ticket: both would run the turn
                    held.add(ticket)
                lock = store.get_lock(conversation)
                if lock is None or lock._ticket_for_ticket_number(ticket) is None:
                    lost.append(ticket)  # our ticket is gone from the stored lock: overwritten or deleted
                with guard:
                    held.discard(ticket)
                store.cleanup(conversation, ticket)
            except Exception as e:  # reported below
                errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return {"tickets": len(issued), "held_by_two_clients": len(shared), "vanished_from_redis": len(lost), "errors": errors[:3]}


def test_atomic_lock_store_issues_each_ticket_once(services):
    ours = hammer(AtomicRedisLockStore, services)
    rasas = hammer(RedisLockStore, services)  # for the record: Rasa 3.6's own, same load
    write_figures(
        "lock_store_contention", {"clients": CLIENTS, "tickets_each": TICKETS_EACH, "atomic": ours, "rasa_redis_lock_store": rasas}
    )
    assert ours["tickets"] == CLIENTS * TICKETS_EACH, ours
    assert ours["held_by_two_clients"] == 0 and ours["vanished_from_redis"] == 0 and not ours["errors"], ours
