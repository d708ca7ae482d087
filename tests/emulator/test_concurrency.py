"""No lost update: 16 concurrent writers, over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api

WRITERS = 16


def run_together(work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def start(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:  # collected and re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_sixteen_writers_lose_no_namespace_or_tag(emulator: EmulatorHandle, user: str) -> None:
    shared = Api(emulator)
    shared.create_namespace("shared")

    def work(index: int) -> None:
        api = Api(emulator)
        for j in range(5):
            api.create_namespace(f"w{index:02d}-{j}")
            api.put_tag("shared", "app", f"t{index:02d}-{j}", f"by {index}")

    run_together(work)
    state = emulator.state()
    expected = {"shared"} | {f"w{i:02d}-{j}" for i in range(WRITERS) for j in range(5)}
    assert {n["namespace"] for n in state["namespaces"]} == expected
    (image,) = state["images"]
    assert len(image["tags"]) == WRITERS * 5


def test_sixteen_racing_user_creations_make_one_user(emulator: EmulatorHandle) -> None:
    codes: list[str] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        name = f"user{index:02d}"
        body = {"username": name, "password": "passwd123", "passwordConfirmation": "passwd123"}
        response = Api(emulator).post("/v1/image/user", body)
        with lock:
            codes.append("ok" if response.status_code == 200 else response.json()["code"])

    run_together(work)
    assert sorted(codes) == ["Cce.MoreThanOneUserPerAccount"] * (WRITERS - 1) + ["ok"]


def test_sixteen_clusters_at_once_get_distinct_ids(emulator: EmulatorHandle) -> None:
    def work(index: int) -> None:
        Api(emulator).create_cluster(containerNet=f"10.{index}.0.0/16", workers=1)

    run_together(work)
    clusters = emulator.state()["clusters"]
    assert len({c["clusterUuid"] for c in clusters}) == WRITERS
    assert len({c["nodes"][0]["instanceShortId"] for c in clusters}) == WRITERS
