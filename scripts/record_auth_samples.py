#!/usr/bin/env python3
"""Record every `ceph auth` verb, plain and `-f json`, as test data for pyceph.

Runs a fixed script of `ceph auth ...` commands (every verb, good and bad input, plain
and JSON output) against a cluster and writes, per command, its arguments, exit code,
stdout and stderr to a JSON file. Against the reference cluster (Debian's Ceph 16.2.15)
this makes `tests/unit/data/samples/ceph-auth-verbs.json`;
`tests/integration/test_auth_cli_output.py` replays the same commands against pyceph and
compares.

    PATH=/usr/bin:$PATH ../shared/tools/refceph/start.sh /tmp/refceph 3
    python scripts/record_auth_samples.py --ceph /usr/bin/ceph --conf /tmp/refceph/ceph.conf \\
        --out tests/unit/data/samples/ceph-auth-verbs.json

Generated keys differ between runs: every base64 cephx secret not in the script is
written as `<KEY>`; the scratch directory as `<DIR>`. `auth ls` and `auth export` with
no entity list the whole cluster: only the entities this script makes (`client.cmp*`)
are kept of them (`filter_entities`). Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

#: A fixed secret for the keyrings the script imports (so outputs show it verbatim).
FIXED_KEY = "AQDQ9V5lAAAAABAAJm2Yc7iG7wNk2B6aV6mqBA=="
KEY_RE = re.compile(r"AQ[A-Za-z0-9+/]{36}==")
#: Entities the script makes; `auth ls`/`auth export` output is cut down to them.
OWN_PREFIX = "client.cmp"
TIMEOUT = 60

KEYRINGS = {
    "imp.keyring": f'[client.cmpimp]\n\tkey = {FIXED_KEY}\n\tcaps mon = "allow r"\n',
    "imp2.keyring": (
        f'[client.cmpimp]\n\tkey = {FIXED_KEY}\n\tcaps mon = "allow rw"\n'
        f'\tcaps osd = "allow r"\n[client.cmpimp2]\n\tkey = {FIXED_KEY}\n'
    ),
    "nocaps.keyring": f"[client.cmpnocaps]\n\tkey = {FIXED_KEY}\n",
    "empty.keyring": "",
    "add.keyring": f'[client.cmpadd]\n\tkey = {FIXED_KEY}\n\tcaps mon = "allow r"\n',
}

#: The script: each item is the argument list after `ceph -c CONF` (`{dir}` = scratch).
CASES: list[list[str]] = [
    # get-or-create: new, same caps again, other caps, json, -o file, bad caps
    ["auth", "get-or-create", "client.cmp", "mon", "allow r", "osd", "allow rw pool=x"],
    ["auth", "get-or-create", "client.cmp", "mon", "allow r", "osd", "allow rw pool=x"],
    [
        "auth",
        "get-or-create",
        "client.cmp",
        "mon",
        "allow r",
        "osd",
        "allow rw pool=x",
        "-f",
        "json",
    ],
    [
        "auth",
        "get-or-create",
        "client.cmp",
        "mon",
        "allow r",
        "osd",
        "allow rw pool=x",
        "-f",
        "json-pretty",
    ],
    ["auth", "get-or-create", "client.cmp", "mon", "allow *"],
    ["auth", "get-or-create", "client.cmp"],
    ["auth", "get-or-create", "client.cmpj", "mon", "allow r", "mgr", "allow r", "-f", "json"],
    ["auth", "get-or-create", "client.cmpo", "mon", "allow r", "-o", "{dir}/o.keyring"],
    ["auth", "get-or-create", "client.cmpbad", "mon", "allow foo"],
    ["auth", "get-or-create", "client.cmpbad", "mon"],
    ["auth", "get-or-create", "cmpnotype", "mon", "allow r"],
    ["auth", "get-or-create-key", "foo.bar"],
    # get-or-create-key
    ["auth", "get-or-create-key", "client.cmp"],
    ["auth", "get-or-create-key", "client.cmp", "-f", "json"],
    ["auth", "get-or-create-key", "client.cmpk", "mon", "allow r"],
    ["auth", "get-or-create-key", "client.cmpk", "mon", "allow w"],
    # get / get-key / print-key / print_key / export of one
    ["auth", "get", "client.cmp"],
    ["auth", "get", "client.cmp", "-f", "json"],
    ["auth", "get", "client.cmp", "-f", "json-pretty"],
    ["auth", "get", "client.cmpnope"],
    ["auth", "get", "client.cmpnope", "-f", "json"],
    ["auth", "get-key", "client.cmp"],
    ["auth", "get-key", "client.cmp", "-f", "json"],
    ["auth", "get-key", "client.cmpnope"],
    ["auth", "print-key", "client.cmp"],
    ["auth", "print-key", "client.cmp", "-f", "json"],
    ["auth", "print_key", "client.cmp"],
    ["auth", "print-key", "client.cmpnope"],
    ["auth", "export", "client.cmp"],
    ["auth", "export", "client.cmp", "-f", "json"],
    ["auth", "export", "client.cmpnope"],
    ["auth", "get", "cmpnotype"],
    ["auth", "get-key", "foo.bar"],
    ["auth", "print-key", "cmpnotype"],
    ["auth", "export", "cmpnotype"],
    # caps
    ["auth", "caps", "client.cmp", "mon", "allow rw", "osd", "allow r"],
    ["auth", "caps", "client.cmp", "mon", "allow rw", "-f", "json"],
    ["auth", "caps", "client.cmpnope", "mon", "allow r"],
    ["auth", "caps", "client.cmp", "mon", "allow bogus"],
    ["auth", "caps", "cmpnotype", "mon", "allow r"],
    ["auth", "caps", "client.cmp", "mon"],
    ["auth", "get", "client.cmp"],
    # add
    ["auth", "add", "client.cmp"],
    ["auth", "add", "client.cmp", "mon", "allow r"],
    ["auth", "add", "client.cmp2", "mon", "allow r"],
    ["auth", "add", "client.cmp2", "mon", "allow r"],
    ["auth", "add", "client.cmp3", "mon", "allow r", "-f", "json"],
    ["auth", "add", "client.cmpadd", "-i", "{dir}/add.keyring"],
    ["auth", "add", "client.cmpadd", "mon", "allow r", "-i", "{dir}/add.keyring"],
    ["auth", "add", "client.cmpadd2", "-i", "{dir}/add.keyring"],
    ["auth", "add", "client.cmpbad", "mon", "allow foo"],
    # import
    ["auth", "import", "-i", "{dir}/imp.keyring"],
    ["auth", "get", "client.cmpimp"],
    ["auth", "import", "-i", "{dir}/imp2.keyring"],
    ["auth", "get", "client.cmpimp"],
    ["auth", "get", "client.cmpimp2", "-f", "json"],
    ["auth", "import", "-i", "{dir}/nocaps.keyring"],
    ["auth", "import", "-i", "{dir}/empty.keyring"],
    ["auth", "import", "-i", "{dir}/imp.keyring", "-f", "json"],
    ["auth", "import"],
    # ls / export of everything (cut down to this script's entities)
    ["auth", "ls"],
    ["auth", "ls", "-f", "json"],
    ["auth", "list", "-f", "json-pretty"],
    ["auth", "export"],
    ["auth", "export", "-f", "json"],
    # rm / del
    ["auth", "rm", "client.cmp2"],
    ["auth", "rm", "client.cmp2"],
    ["auth", "rm", "client.cmp3", "-f", "json"],
    ["auth", "del", "client.cmpimp"],
    ["auth", "rm", "client.cmpnope"],
    ["auth", "rm", "cmpnotype"],
    ["auth", "add", "foo.bar"],
    ["auth", "get", "client.cmp2"],
    # keyrings written by -o are 0600 (the mode is recorded by the runner)
    ["auth", "get", "client.cmp", "-o", "{dir}/got.keyring"],
    ["auth", "export", "client.cmp", "-o", "{dir}/exp.keyring"],
]

#: Entities the script leaves behind; removed at the start and end.
CLEANUP = [
    "client.cmp", "client.cmpj", "client.cmpo", "client.cmpk", "client.cmp2", "client.cmp3",
    "client.cmpadd", "client.cmpadd2", "client.cmpimp", "client.cmpimp2", "client.cmpnocaps",
    "client.cmpbad",
]  # fmt: skip


def normalize(text: str, scratch: str) -> str:
    """Secrets this script did not choose become `<KEY>`; the scratch dir `<DIR>`."""
    text = text.replace(scratch, "<DIR>")
    return KEY_RE.sub(lambda m: m.group(0) if m.group(0) == FIXED_KEY else "<KEY>", text)


def _keep_plain_blocks(text: str) -> str:
    """Of a keyring-like or `auth ls` listing, the blocks of this script's entities."""
    out, keep = [], True
    for line in text.splitlines(keepends=True):
        m = re.match(r"^\[?([a-z]+\.[^\]\s]*)\]?\s*$", line)
        if m and not line.startswith("\t"):
            keep = m.group(1).startswith(OWN_PREFIX)
        if keep:
            out.append(line)
    return "".join(out)


def filter_entities(args: Sequence[str], stdout: str) -> str:
    """`auth ls`/`auth export` (no entity) list the whole cluster; keep ours only."""
    verb = args[1] if len(args) > 1 else ""
    listing = verb in ("ls", "list") or (verb == "export" and not _positional(args[2:]))
    if not listing:
        return stdout
    if "-f" in args:
        doc = json.loads(stdout)
        items = doc["auth_dump"] if isinstance(doc, dict) else doc
        mine = [e for e in items if str(e.get("entity", "")).startswith(OWN_PREFIX)]
        kept: Any = {**doc, "auth_dump": mine} if isinstance(doc, dict) else mine
        return json.dumps(kept, indent=4 if "json-pretty" in args else None)
    return _keep_plain_blocks(stdout)


def _positional(rest: Sequence[str]) -> list[str]:
    out, skip = [], False
    for a in rest:
        if skip:
            skip = False
        elif a in ("-f", "-o", "-i"):
            skip = True
        else:
            out.append(a)
    return out


def run_cases(
    runner: Callable[[list[str]], tuple[int, str, str]], scratch: str
) -> list[dict[str, Any]]:
    """Run every case with `runner(args) -> (rc, stdout, stderr)`; the normalized record."""
    for name, body in KEYRINGS.items():
        with open(os.path.join(scratch, name), "w") as f:
            f.write(body)
    records = []
    for case in CASES:
        args = [a.replace("{dir}", scratch) for a in case]
        rc, out, err = runner(args)
        rec: dict[str, Any] = {
            "args": case,
            "rc": rc,
            "stdout": normalize(filter_entities(case, out) if rc == 0 else out, scratch),
            "stderr": normalize(err, scratch),
        }
        if "-o" in case:
            path = args[args.index("-o") + 1]
            if os.path.exists(path):
                rec["file_mode"] = oct(os.stat(path).st_mode & 0o777)
                with open(path) as f:
                    rec["file"] = normalize(f.read(), scratch)
                os.unlink(path)
        records.append(rec)
    return records


def cli_runner(ceph: Sequence[str], conf: str) -> Callable[[list[str]], tuple[int, str, str]]:
    def run(args: list[str]) -> tuple[int, str, str]:
        env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
        p = subprocess.run(
            [*ceph, "-c", conf, *args], capture_output=True, text=True, timeout=TIMEOUT, env=env
        )
        return p.returncode, p.stdout, p.stderr

    return run


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ceph", default="/usr/bin/ceph", help="the ceph command (space-split)")
    ap.add_argument("--conf", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    runner = cli_runner(a.ceph.split(), a.conf)
    for e in CLEANUP:
        runner(["auth", "rm", e])
    with tempfile.TemporaryDirectory() as scratch:
        records = run_cases(runner, scratch)
    for e in CLEANUP:
        runner(["auth", "rm", e])
    with open(a.out, "w") as f:
        json.dump({"source": "ceph 16.2.15 (Debian), refceph", "cases": records}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
