"""Compare pyceph's option defaults with Debian's `ceph-conf --show-config` (by hand, not CI).

python scripts/check_option_defaults.py
"""

import subprocess
import sys

from pyceph.common.config import CephConfig
from pyceph.common.options import OPTIONS


def main() -> int:
    out = subprocess.run(
        ["/usr/bin/ceph-conf", "-c", "/dev/null", "--show-config"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ref = dict(line.partition(" = ")[::2] for line in out.splitlines())
    conf = CephConfig(is_daemon=True)  # ceph-conf uses daemon defaults
    conf.set("host", "vm")
    ref_host = ref.get("host", "")
    bad = {
        name: (conf.get_str(name), ref.get(name))
        for name in OPTIONS
        if not name.startswith("pyceph_")
        and name not in ("log_to_file", "host")  # ceph-conf turns file logging off
        and conf.get_str(name).replace("vm", ref_host or "vm") != ref.get(name)
    }
    for name, (ours, theirs) in sorted(bad.items()):
        print(f"{name}: pyceph {ours!r} upstream {theirs!r}")
    print(f"{len(OPTIONS) - len(bad)} of {len(OPTIONS)} options agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
