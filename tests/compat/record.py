"""Record the expected outcomes: run scenarios against the reference Ceph (not run in CI).

    python tests/compat/record.py [--conf /tmp/refceph/ceph.conf] [--python /usr/bin/python3]
                                  [SCENARIO ...]

Runs each scenario (all by default) with Debian's `python3-rados` under `/usr/bin/python3`
against the reference cluster (tools/refceph) and writes expected/<scenario>.json. A
scenario whose reference run fails in the harness (crash, timeout) is not written.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

_spec = importlib.util.spec_from_file_location(
    "compat_runner", os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
)
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conf", default="/tmp/refceph/ceph.conf")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("-j", "--jobs", type=int, default=4)
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args(argv)
    names = args.scenarios or runner.scenario_names()
    os.makedirs(runner.EXPECTED_DIR, exist_ok=True)

    def one(name: str) -> dict:
        return runner.run_scenario(args.python, name, args.conf)

    failed = 0
    with ThreadPoolExecutor(args.jobs) as ex:
        for name, res in zip(names, ex.map(one, names), strict=True):
            bad = [s for s in res["steps"] if s["step"] == "__harness__"]
            if bad:
                failed += 1
                print(f"{name}: NOT recorded: {bad[0]['detail']}\n{res['stderr']}", file=sys.stderr)
                continue
            out = {
                "scenario": name,
                "recorded_with": {"python": args.python, "rados": "Debian python3-rados 16.2.15"},
                "steps": res["steps"],
            }
            with open(os.path.join(runner.EXPECTED_DIR, name + ".json"), "w") as f:
                json.dump(out, f, indent=1, sort_keys=True)
                f.write("\n")
            print(f"{name}: {len(res['steps'])} steps recorded")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
