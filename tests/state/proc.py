"""A run of the reconciler reduced to its state calls, as a separate process for the tests.

``proc.py BACKEND LOCATION WORKSPACE MODE [ARGS]`` prints one line when it is in position, then
sleeps until killed (the tests SIGKILL it, as a crashed or killed run):

- ``lock``: takes the lock; prints ``locked <lock id>``;
- ``journal N``: takes the lock, journals N intents (the first with its cloud id) and prints
  ``journaled <lock id>``, never reaching the journal's exit.
"""

from __future__ import annotations

import sys
import time

from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import CloudIdRecord, IntentRecord, StateStore, new_intent_id
from reconciler.state.local import LocalStateStore


def open_store(backend: str, location: str, workspace: str) -> StateStore:
    if backend == "local":
        return LocalStateStore(location, kinds=kind_names())
    from reconciler.state.postgres import PostgresStateStore

    return PostgresStateStore(location, workspace, kinds=kind_names())


def say(line: str) -> None:
    print(line, flush=True)


def journal(store: StateStore, count: int) -> None:
    state = store.read()
    with store.journal(state) as jour:
        for index in range(count):
            intent = new_intent_id()
            jour.append(IntentRecord(intent, Address("user", f"pending{index}"), "create"))
            if index == 0:
                jour.append(CloudIdRecord(intent, "id-0"))
        say_and_wait("journaled")


def say_and_wait(line: str) -> None:
    say(line)
    while True:
        time.sleep(60)


def main(argv: list[str]) -> None:
    backend, location, workspace, mode, *args = argv
    store = open_store(backend, location, workspace)
    with store.lock(f"test {mode}") as info:
        if mode == "lock":
            say_and_wait(f"locked {info.id}")
        elif mode == "journal":
            say(f"lock {info.id}")
            journal(store, int(args[0]))
        else:
            raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
