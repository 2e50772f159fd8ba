"""pyceph's `rados` and `rbd` against the outcomes recorded from the reference Ceph.

Every scenario in scenarios/ runs in a subprocess under this interpreter (pyceph's
drop-in `rados`, and `rbd` for the `rbd_*` scenarios) against the shared session
cluster, and each step's outcome must equal the one in expected/<scenario>.json
(recorded by record.py from Debian's python3-rados/python3-rbd against a real Ceph
16.2.15). Steps listed in known_gaps.json are pyceph's known differences: they must
still differ, so fixing one makes this test ask for its removal from the list. A
listed `__harness__` entry tolerates a crash of the scenario's child (e.g. `rbd` not
importable yet) and, likewise, must be removed once the child runs through.
`python tests/compat/record.py --update-gaps` rewrites the list from a pyceph run.

The scenarios of one family (rados or rbd) run together, concurrently, the first
time a test of that family needs them, so `-k "not rbd"` runs no rbd scenario.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import pyceph

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("compat_runner", os.path.join(HERE, "runner.py"))
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

SCENARIOS = runner.scenario_names()

#: The source tree of the pyceph under test: scenario children import its `rados` and
#: `rbd` (runner clears PYTHONPATH, and an editable install may point at another tree).
PYCEPH_SRC = os.path.dirname(os.path.dirname(os.path.abspath(pyceph.__file__)))

with open(os.path.join(HERE, "known_gaps.json")) as _f:
    KNOWN_GAPS: dict[str, dict[str, str]] = {
        k: v for k, v in json.load(_f).items() if not k.startswith("_")
    }


#: Scenario children run at once against the shared cluster.
MAX_CONCURRENT = 8
#: Seconds one scenario child may take.
SCENARIO_TIMEOUT = 120


class _Outcomes:
    """pyceph's outcomes per scenario, computed a family at a time on first use."""

    def __init__(self, conf: str) -> None:
        self.conf = conf
        self.done: dict[str, dict] = {}

    def __getitem__(self, scenario: str) -> dict:
        if scenario not in self.done:
            fam = runner.family(scenario)
            names = [n for n in SCENARIOS if runner.family(n) == fam]
            with ThreadPoolExecutor(min(MAX_CONCURRENT, len(names))) as ex:
                results = ex.map(
                    lambda name: runner.run_scenario(
                        sys.executable,
                        name,
                        self.conf,
                        env={"PYTHONPATH": PYCEPH_SRC},
                        timeout=SCENARIO_TIMEOUT,
                    ),
                    names,
                )
                self.done.update(zip(names, results, strict=True))
        return self.done[scenario]


@pytest.fixture(scope="module")
def outcomes(cluster_conf: str) -> _Outcomes:
    """Every scenario's pyceph outcomes, run concurrently against the shared cluster."""
    return _Outcomes(cluster_conf)


def _fmt(outcome: dict | None) -> str:
    if outcome is None:
        return "(step not reported)"
    shown = {k: outcome.get(k) for k in runner.COMPARED}
    if outcome.get("detail"):
        shown["detail"] = outcome["detail"]
    return json.dumps(shown, sort_keys=True)[:600]


def test_every_scenario_is_recorded():
    recorded = sorted(f[:-5] for f in os.listdir(runner.EXPECTED_DIR) if f.endswith(".json"))
    assert recorded == SCENARIOS


def test_known_gaps_name_recorded_steps():
    """known_gaps.json only names scenarios and steps that exist, each with a reason."""
    for scenario, gaps in KNOWN_GAPS.items():
        assert scenario in SCENARIOS, scenario
        steps = {s["step"] for s in runner.load_expected(scenario)["steps"]}
        for step, reason in gaps.items():
            assert step in steps or step == runner.HARNESS_STEP, (
                f"{scenario}: no recorded step {step!r}"
            )
            assert isinstance(reason, str) and reason.strip(), f"{scenario}/{step}: no reason"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_matches_reference(scenario: str, outcomes: _Outcomes) -> None:
    expected = runner.load_expected(scenario)["steps"]
    got = outcomes[scenario]
    actual = {s["step"]: s for s in got["steps"]}
    gaps = KNOWN_GAPS.get(scenario, {})
    problems = []
    harness = actual.get(runner.HARNESS_STEP)
    if runner.HARNESS_STEP in gaps:
        if harness is None:
            problems.append(
                f"the child now runs through; remove {runner.HARNESS_STEP} from "
                f"known_gaps.json ({gaps[runner.HARNESS_STEP]})"
            )
    elif harness is not None:
        problems.append(f"harness: {harness['detail']}\nstderr: {got['stderr']}")
    for exp in expected:
        name = exp["step"]
        diff = runner.compare_step(exp, actual.get(name))
        if name in gaps:
            if not diff:
                problems.append(
                    f"{name}: now matches the reference; remove it from known_gaps.json "
                    f"({gaps[name]})"
                )
        elif diff:
            problems.append(
                f"{name}: differs in {diff}\n   expected {_fmt(exp)}\n   pyceph   "
                f"{_fmt(actual.get(name))}"
            )
    extra = sorted(set(actual) - {e["step"] for e in expected} - {runner.HARNESS_STEP})
    if extra:
        problems.append(f"steps not in the recording (re-record?): {extra}")
    assert not problems, f"{scenario}: {len(problems)} problem(s)\n" + "\n".join(problems)
