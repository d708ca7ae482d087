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
    v2_crash = [r for r in rows if r["suite"] == "v2-crash"]
    writes = sum(r["kills"] for r in rows if r["suite"] == "state-write-kills")
    runs = Counter(r["runs"] for r in faults)
    print(
        f"fault seeds run:           {len(faults)} (converged in 1/2/3 runs: {runs[1]}/{runs[2]}/{runs[3]};"
        f" not converged: {sum(1 for r in faults if not r.get('converged', True))})"
    )
    v2_faults = sum(r.get("v2_faults", 0) for r in faults)
    print(
        f"faults injected:           {sum(r['faults'] for r in faults)} ({v2_faults} on CCE v2 requests)"
    )
    v2_creates = Counter(f for r in faults for f in r.get("v2_create_faults", ()))
    print(f"  on CCE v2 creates:       {dict(sorted(v2_creates.items()))}")
    forced = [r for r in rows if r["suite"] == "faults-v2"]
    print(
        f"  forced on CCE v2 creates: {sum(r['faults'] for r in forced)}"
        f" ({', '.join(sorted(r['fault'] for r in forced))})"
    )
    v2_kills = sum(1 for r in crash if "/v2/" in r.get("after", ""))
    print(
        f"kills at k-th mutation:    {len(crash)} ({v2_kills} at a CCE v2 create);"
        f" kills during state writes: {writes}"
    )
    print(f"kills in CCE v2 waits:     {len(v2_crash)} (cluster wait, group wait, dropped creates)")
    checked = faults + forced + crash + v2_crash
    print(f"duplicates found:          {sum(r['duplicates'] for r in checked)}")
    print(f"orphans found:             {sum(r['orphans'] for r in checked)}")
    fuzz = [r for r in rows if r["suite"] == "answer-fuzz"]
    print(
        f"answers fuzzed:            {sum(r['cases'] for r in fuzz)} field mutations over"
        f" {len(fuzz)} endpoints; problems: {sum(r['problems'] for r in fuzz)}"
    )
    for r in rows:
        if r["suite"] == "paging":
            print(f"endless pages:             {r['case']}: {r['pages']} page(s), {r['s']:.2f} s")
    for r in rows:
        if r["suite"] in ("concurrency", "retry-budget"):
            print(f"{r['suite']}: {json.dumps({k: v for k, v in r.items() if k != 'suite'})}")


if __name__ == "__main__":
    main(sys.argv[1])
