"""``reconciler watch``: continuous reconciliation of many environments by one or more workers.

The pieces, in the order a turn uses them:

- ``turn``: one environment's turn: the configuration, the state store and its lock (taken with
  try-lock), the client, refresh, recovery and plan, all from ``session``; then the executor
  of ``apply`` on what the policy lets through;
- ``policy`` (pure): the mode of each resource, its status, which changes are applied in
  enforce and why the others are held; the memory of failures, backoff and repairs;
- ``seats``: which worker works which environment, from advisory locks in PostgreSQL;
- ``loop``: the schedule (every interval, with jitter), the pool, clean stops;
- ``report``: events (JSON lines, webhook), ``/status``, ``/metrics``, ``/healthz``.

The request budget per API host and the pause on repeated 429/503 are the client's
(``client.budget``), shared by every environment's client in the process.
"""
