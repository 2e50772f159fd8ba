"""What `pyceph up` waits for besides OSDs and PGs: the pool the `devicehealth` mgr
module makes once enough OSDs are up (so a cluster called ready does not show a new,
unknown PG a moment later), decided from `mgr dump` and `config dump`."""

from __future__ import annotations

from pyceph.cli.localcluster import DEVICE_HEALTH_POOL, device_pool_expected


def _mgr_dump(can_run: bool = True, always_on: bool = True, enabled: bool = False) -> dict:
    return {
        "modules": ["devicehealth"] if enabled else ["dashboard"],
        "available_modules": [
            {"name": "devicehealth", "can_run": can_run, "error_string": ""},
            {"name": "dashboard", "can_run": True, "error_string": ""},
        ],
        "always_on_modules": {
            "octopus": ["devicehealth"],
            "pacific": ["balancer", "devicehealth"] if always_on else ["balancer"],
        },
    }


def _opt(name: str, value: str, section: str = "mgr") -> dict:
    return {"section": section, "name": f"mgr/devicehealth/{name}", "value": value}


def test_the_pool_of_a_running_devicehealth() -> None:
    assert device_pool_expected(_mgr_dump(), []) == DEVICE_HEALTH_POOL
    assert device_pool_expected(_mgr_dump(always_on=False, enabled=True), []) == DEVICE_HEALTH_POOL
    renamed = [_opt("pool_name", "dh", section="global")]
    assert device_pool_expected(_mgr_dump(), renamed) == "dh"


def test_no_pool_when_devicehealth_does_not_run_or_monitor() -> None:
    # not loaded here (built-in modules only): not listed among the available ones
    dump = _mgr_dump()
    dump["available_modules"] = [
        m for m in dump["available_modules"] if m["name"] != "devicehealth"
    ]
    assert device_pool_expected(dump, []) is None
    assert device_pool_expected(_mgr_dump(can_run=False), []) is None
    assert device_pool_expected(_mgr_dump(always_on=False), []) is None
    assert device_pool_expected(_mgr_dump(), [_opt("enable_monitoring", "false")]) is None
    # another daemon's section does not apply to the mgr
    off_elsewhere = [_opt("enable_monitoring", "false", section="osd")]
    assert device_pool_expected(_mgr_dump(), off_elsewhere) == DEVICE_HEALTH_POOL
