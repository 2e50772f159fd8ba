"""Record what upstream's mgr_util (Debian's ceph-mgr 16.2.15, /usr/share/ceph/mgr) prints
for the cases tests/unit/test_mgr_module.py checks ours against; writes
tests/unit/data/mgr_util_format.json. Developer tool: needs Debian's `ceph-mgr` package.

    /usr/bin/python3 scripts/record_mgr_util_oracle.py
"""

from __future__ import annotations

import json
import os
import sys

DEBIAN_MGR = "/usr/share/ceph/mgr"
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "unit", "data", "mgr_util_format.json")
CASES = [
    ("format_bytes", n, w, c)
    for n in (0, 1, 999, 1024, 1536, 10**6, 3 * 2**20, 2**40 + 5, 7 * 10**15)
    for w in (4, 5, 6, 8)
    for c in (False, True)
] + [("format_dimless", n, w, False) for n in (0, 7, 1500, 10**9, 123456789) for w in (4, 5, 6)]


def main() -> None:
    sys.path.insert(0, DEBIAN_MGR)
    import mgr_util  # Debian's, from DEBIAN_MGR

    rows = [[f, n, w, c, getattr(mgr_util, f)(n, w, c)] for f, n, w, c in CASES]
    with open(OUT, "w") as f:
        json.dump({"source": "Debian ceph-mgr 16.2.15 mgr_util.py", "cases": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
