"""What a daemon or service client reports of the host it runs on (upstream
`collect_sys_info`): architecture, kernel, OS, memory, host name and the Ceph version.

The one place that reads the machine (`platform`, the host name, `/proc/meminfo`) for
metadata. Daemons and clients reach it through their runtime's `Host`
(`pyceph.common.runtime`), whose simulated kind answers `fixed_sys_info` instead.
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


def fixed_sys_info(hostname: str) -> dict[str, str]:
    """`collect_sys_info`'s keys for a simulated machine: the same on every real one."""
    return {
        "arch": "x86_64",
        "ceph_release": "pacific",
        "ceph_version": VERSION_STRING,
        "ceph_version_short": CEPH_VERSION,
        "hostname": hostname,
        "kernel_description": "#1 SMP simulated",
        "kernel_version": "6.1.0-sim",
        "os": "Linux",
        "mem_total_kb": str(16 << 20),
        "mem_swap_kb": "0",
    }
