"""Delete finished conversations from the SQL tracker store.

Personal values (addresses, names, numbers) are cleared from the slots as soon as an
inquiry is shown, but Rasa keeps every event, so the typed values stay in the
`events` table. This removes every conversation whose last event is older than the
retention period (default 24 hours: a conversation that has been quiet that long is
over; the session itself expires after 60 minutes, domain.yml).

    python -m insights.purge                       # tracker.db, 24 hours
    python -m insights.purge --db postgresql://user:pw@host/rasa --hours 6

Run it from cron on every tracker store (see README, "Privacy").
"""

from __future__ import annotations

import argparse
import sys
import time

import sqlalchemy as sa

DEFAULT_DB = "sqlite:///tracker.db"


def purge(db_url: str, hours: float, now: float | None = None) -> int:
    """Deletes old conversations; returns the number of conversations removed."""
    cutoff = (now if now is not None else time.time()) - hours * 3600
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        if not sa.inspect(connection).has_table("events"):
            return 0
        events = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
        stale = sa.select(events.c.sender_id).group_by(events.c.sender_id).having(sa.func.max(events.c.timestamp) < cutoff)
        senders = [row[0] for row in connection.execute(stale)]
        for start in range(0, len(senders), 500):
            connection.execute(sa.delete(events).where(events.c.sender_id.in_(senders[start : start + 500])))
    return len(senders)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLAlchemy URL of the tracker store (default {DEFAULT_DB})")
    parser.add_argument("--hours", type=float, default=24.0, help="keep conversations active within this many hours")
    args = parser.parse_args(argv)
    removed = purge(args.db, args.hours)
    print(f"removed {removed} conversation(s) quiet for more than {args.hours:g} hours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
