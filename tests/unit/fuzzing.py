"""Hypothesis settings shared by the fuzz tests (tests/unit/test_fuzz_*.py).

Two named profiles: `pyceph-fuzz-ci` (the default: a bounded, derandomized number of
examples per property so each file stays within seconds) and `pyceph-fuzz-long`
(`scripts/fuzz_long.py`: random seeds and `PYCEPH_FUZZ_EXAMPLES` examples per property).
The profile is chosen by the `PYCEPH_FUZZ_PROFILE` environment variable; the settings are
applied per test, so the global hypothesis profile of other tests is untouched.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "PYCEPH_FUZZ_PROFILE"
EXAMPLES_ENV = "PYCEPH_FUZZ_EXAMPLES"
CI_PROFILE = "pyceph-fuzz-ci"
LONG_PROFILE = "pyceph-fuzz-long"
#: Examples per property in a long run unless PYCEPH_FUZZ_EXAMPLES says otherwise.
LONG_EXAMPLES = 20_000

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    CI_PROFILE, deadline=None, derandomize=True, database=None, suppress_health_check=_QUIET
)
settings.register_profile(
    LONG_PROFILE, deadline=None, derandomize=False, database=None, suppress_health_check=_QUIET
)


def long_run() -> bool:
    return os.environ.get(PROFILE_ENV) == LONG_PROFILE


def fuzz(ci_examples: int) -> settings:
    """Settings for one property: `ci_examples` in CI, the long budget off CI."""
    if long_run():
        n = int(os.environ.get(EXAMPLES_ENV) or LONG_EXAMPLES)
        return settings(settings.get_profile(LONG_PROFILE), max_examples=n)
    return settings(settings.get_profile(CI_PROFILE), max_examples=ci_examples)
