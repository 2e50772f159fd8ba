"""Record the expected outcomes from the reference Ceph, or pyceph's known gaps (not CI).

Recording (developer tool; needs the reference cluster of ../shared/tools/refceph,
installed by `scripts/refceph_install.sh` and started with Debian's `ceph` first on
PATH, since pyceph installs a `ceph` of its own):

    bash scripts/refceph_install.sh
    PATH=/usr/bin:$PATH ../shared/tools/refceph/start.sh /tmp/refceph 3
    # small pools, so that -j4 scenarios with two pools each stay under the PG limit
    for kv in osd_pool_default_pg_num=8 osd_pool_default_pgp_num=8 \
              osd_pool_default_pg_autoscale_mode=off mon_max_pg_per_osd=1000; do
        /usr/bin/ceph -c /tmp/refceph/ceph.conf config set global ${kv%%=*} ${kv#*=}; done
    python tests/compat/record.py [--conf /tmp/refceph/ceph.conf] [--python /usr/bin/python3]
                                  [SCENARIO ...]
    ../shared/tools/refceph/stop.sh /tmp/refceph --wipe

runs each scenario (all by default) with Debian's `python3-rados`/`python3-rbd` under
`/usr/bin/python3` against the reference cluster and writes expected/<scenario>.json. A
scenario whose reference run fails in the harness (crash, timeout) is not written.

Known gaps:

    python tests/compat/record.py --update-gaps [--conf PYCEPH_CONF] [SCENARIO ...]

runs the scenarios (all by default) with this interpreter (pyceph's modules) against
a pyceph cluster (a temporary one with the test suite's options unless --conf names
one) and rewrites those scenarios' entries of known_gaps.json: every step that differs
from the recording, with a one-line reason (`__harness__` when the child crashed).
test_compat.py then requires each listed step to keep differing, so the list can only
shrink; run this after a fix to drop the entries it closed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("compat_runner", os.path.join(HERE, "runner.py"))
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

KNOWN_GAPS = os.path.join(HERE, "known_gaps.json")
#: What recorded the expectations, per scenario family.
RECORDED_WITH = {
    "rados": "Debian python3-rados 16.2.15",
    "rbd": "Debian python3-rados/python3-rbd 16.2.15",
}
#: Seconds one scenario child may take when listing gaps (as in test_compat.py).
GAPS_TIMEOUT = 120


def record(args: argparse.Namespace, names: list[str]) -> int:
    os.makedirs(runner.EXPECTED_DIR, exist_ok=True)

    def one(name: str) -> dict:
        return runner.run_scenario(args.python, name, args.conf)

    failed = 0
    with ThreadPoolExecutor(args.jobs) as ex:
        for name, res in zip(names, ex.map(one, names), strict=True):
            bad = [s for s in res["steps"] if s["step"] == runner.HARNESS_STEP]
            if bad:
                failed += 1
                print(f"{name}: NOT recorded: {bad[0]['detail']}\n{res['stderr']}", file=sys.stderr)
                continue
            key = "rados" if runner.family(name) == "rados" else "rbd"
            out = {
                "scenario": name,
                "recorded_with": {"python": args.python, key: RECORDED_WITH[runner.family(name)]},
                "steps": res["steps"],
            }
            with open(os.path.join(runner.EXPECTED_DIR, name + ".json"), "w") as f:
                json.dump(out, f, indent=1, sort_keys=True)
                f.write("\n")
            print(f"{name}: {len(res['steps'])} steps recorded")
    return 1 if failed else 0


@contextlib.contextmanager
def pyceph_cluster(conf: str | None) -> Iterator[str]:
    """`conf`, or the conf of a temporary pyceph cluster made like the test suite's."""
    if conf:
        yield conf
        return
    spec = importlib.util.spec_from_file_location(
        "compat_conftest", os.path.join(os.path.dirname(HERE), "conftest.py")
    )
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    with tempfile.TemporaryDirectory(prefix="pyceph-gaps-") as tmp:
        cluster = conftest.make_cluster(os.path.join(tmp, "c"))
        try:
            yield cluster.conf_path
        finally:
            cluster.stop()


def update_gaps(args: argparse.Namespace, names: list[str]) -> int:
    python = args.python or sys.executable
    with pyceph_cluster(args.conf) as conf, ThreadPoolExecutor(args.jobs) as ex:
        results = list(
            ex.map(lambda n: runner.run_scenario(python, n, conf, timeout=GAPS_TIMEOUT), names)
        )
    with open(KNOWN_GAPS) as f:
        gaps = json.load(f)
    total_steps = total_pass = 0
    for name, res in zip(names, results, strict=True):
        expected = runner.load_expected(name)["steps"]
        found = runner.differing_steps(expected, res)
        passing = len(expected) - len([s for s in found if s != runner.HARNESS_STEP])
        total_steps += len(expected)
        total_pass += passing
        print(f"{name}: {passing}/{len(expected)} steps match")
        if found:
            gaps[name] = dict(sorted(found.items()))
        else:
            gaps.pop(name, None)
    ordered = {k: gaps[k] for k in sorted(gaps, key=lambda k: (not k.startswith("_"), k))}
    with open(KNOWN_GAPS, "w") as f:
        json.dump(ordered, f, indent=1)
        f.write("\n")
    print(f"total: {total_pass}/{total_steps} steps match; known_gaps.json updated")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conf", default=None, help="cluster conf (default: the reference's)")
    ap.add_argument("--python", default=None, help="interpreter of the children")
    ap.add_argument("-j", "--jobs", type=int, default=4)
    ap.add_argument(
        "--update-gaps",
        action="store_true",
        help="run under pyceph and rewrite known_gaps.json for these scenarios",
    )
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args(argv)
    names = args.scenarios or runner.scenario_names()
    if args.update_gaps:
        return update_gaps(args, names)
    args.conf = args.conf or "/tmp/refceph/ceph.conf"
    args.python = args.python or "/usr/bin/python3"
    return record(args, names)


if __name__ == "__main__":
    sys.exit(main())
