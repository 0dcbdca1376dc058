"""``crmbridge sync`` in a child process that can kill itself at a chosen point (R-S10).

Usage: ``python crash_runner.py [--crash-at LABEL:N] [--events FILE] --tenant T ...``
with the world's environment (``DATABASE_URL``, ``SALESFORCE_CA_BUNDLE`` …); every
other argument goes to the sync command.

Without ``--crash-at`` this is exactly ``crmbridge sync --tenant T``. With it, the
process sends itself SIGKILL the N-th time it reaches LABEL:

- ``page``: a Salesforce query page has arrived and is not applied yet;
- ``commit``: a database transaction of the sync has just committed;
- ``in_commit``: a database transaction is about to commit (it never does);
- ``write_before``: a write call (collection or Bulk API 2.0) is about to be sent;
- ``write_sent``: Salesforce accepted a write call; crmbridge has not recorded it.

The hooks wrap the Salesforce client's single door (``SalesforceClient.request``), its
query pager and SQLAlchemy's session events in this child only, so production code
pays nothing for them. ``--events FILE`` writes how often each point was reached
(for the campaign's log and to size crash points).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crmbridge.salesforce.client import SalesforceClient

#: Salesforce write calls: sObject Collections and Bulk API 2.0 jobs (REST API
#: Developer Guide, "sObject Collections"; Bulk API 2.0 Developer Guide, "Ingest").
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_WRITE_PREFIXES = ("composite/sobjects", "jobs/ingest", "sobjects/")

events: Counter[str] = Counter()
_crash_label = ""
_crash_at = 0


def _reached(label: str) -> None:
    events[label] += 1
    if label == _crash_label and events[label] == _crash_at:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _is_write(method: str, path: str) -> bool:
    relative = path.split("/services/data/", 1)[-1].split("/", 1)[-1] if "://" in path else path
    return method.upper() in _WRITE_METHODS and relative.startswith(_WRITE_PREFIXES)


def install_hooks() -> None:
    """Wrap the client's door, the query pager and the session's commits."""
    request = SalesforceClient.request
    query_pages = SalesforceClient.query_pages

    def hooked_request(self: SalesforceClient, method: str, path: str, **kwargs: Any) -> Any:
        write = _is_write(method, path)
        if write:
            _reached("write_before")
        response = request(self, method, path, **kwargs)
        if write:
            _reached("write_sent")
        return response

    def hooked_pages(self: SalesforceClient, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for page in query_pages(self, *args, **kwargs):
            _reached("page")
            yield page

    SalesforceClient.request = hooked_request  # type: ignore[method-assign]
    SalesforceClient.query_pages = hooked_pages  # type: ignore[method-assign]
    event.listen(Session, "before_commit", lambda _s: _reached("in_commit"))
    event.listen(Session, "after_commit", lambda _s: _reached("commit"))


def main() -> None:
    global _crash_label, _crash_at
    parser = argparse.ArgumentParser()
    parser.add_argument("--crash-at", default="")
    parser.add_argument("--events", default="")
    args, rest = parser.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    if args.crash_at:
        label, _, n = args.crash_at.partition(":")
        _crash_label, _crash_at = label, int(n)
    if args.events:
        path = args.events

        def write_events() -> None:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(dict(events), handle)

        atexit.register(write_events)
    install_hooks()
    # The ``crmbridge sync`` command itself, without importing the other sub-commands
    # (the web app, the emulator, the demo): a restart then takes 0.9 s instead of 1.5 s.
    import typer

    from crmbridge.sync.cli import sync_command

    typer.run(sync_command)


if __name__ == "__main__":
    main()
