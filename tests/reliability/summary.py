"""Summarise the figures the reliability suites recorded (RECONCILER_RELIABILITY_REPORT=FILE).

Usage: python -m tests.reliability.summary FILE
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    faults = [r for r in rows if r["suite"] == "faults"]
    crash = [r for r in rows if r["suite"] == "crash"]
    writes = sum(r["kills"] for r in rows if r["suite"] == "state-write-kills")
    runs = Counter(r["runs"] for r in faults)
    print(
        f"fault seeds run:           {len(faults)} (converged in 1/2/3 runs: {runs[1]}/{runs[2]}/{runs[3]};"
        f" not converged: {sum(1 for r in faults if not r.get('converged', True))})"
    )
    print(f"faults injected:           {sum(r['faults'] for r in faults)}")
    print(f"kills at k-th mutation:    {len(crash)}; kills during state writes: {writes}")
    print(f"duplicates found:          {sum(r['duplicates'] for r in faults + crash)}")
    print(f"orphans found:             {sum(r['orphans'] for r in faults + crash)}")
    for r in rows:
        if r["suite"] in ("concurrency", "retry-budget"):
            print(f"{r['suite']}: {json.dumps({k: v for k, v in r.items() if k != 'suite'})}")


if __name__ == "__main__":
    main(sys.argv[1])
