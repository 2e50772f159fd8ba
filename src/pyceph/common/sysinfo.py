"""What a daemon or service client reports of the host it runs on (upstream
`collect_sys_info`): architecture, kernel, OS, memory, host name and the Ceph version.

The one place that reads the machine (`platform`, the host name, `/proc/meminfo`) for
metadata, so the simulator has a single seam to replace.
"""

from __future__ import annotations

import platform
import socket

from pyceph import CEPH_VERSION, VERSION_STRING


def collect_sys_info() -> dict[str, str]:
    """Upstream's `collect_sys_info` keys for this host."""
    uname = platform.uname()
    md = {
        "arch": uname.machine,
        "ceph_release": "pacific",
        "ceph_version": VERSION_STRING,
        "ceph_version_short": CEPH_VERSION,
        "hostname": socket.gethostname(),
        "kernel_description": uname.version,
        "kernel_version": uname.release,
        "os": uname.system,
    }
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "MemTotal":
                    md["mem_total_kb"] = v.split()[0]
                elif k == "SwapTotal":
                    md["mem_swap_kb"] = v.split()[0]
    except OSError:
        pass
    return md
