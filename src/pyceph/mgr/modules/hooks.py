"""The mgr's side of the module API: upstream's C++ `ceph_module` hooks in Python.

Upstream's ceph-mgr embeds Python and gives every module the base classes
`ceph_module.BaseMgrModule`, `BaseMgrStandbyModule`, `BasePyOSDMap`,
`BasePyOSDMapIncremental` and `BasePyCRUSH` (src/mgr/BaseMgrModule.cc,
BaseMgrStandbyModule.cc, PyOSDMap.cc), whose `_ceph_*` methods reach into the
daemon. These are the same classes over pyceph's `ModuleHost`; the top-level
`ceph_module` re-exports them under upstream's name, so `mgr_module` (ours, or
upstream's own file) subclasses them unchanged.

Every hook is called from a module's thread; the host does the work on its event
loop (or from its caches) and never lets a module block the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyceph.mgr.modules.host import ModuleHandle, ModuleHost

__all__ = [
    "BaseMgrModule",
    "BaseMgrStandbyModule",
    "BasePyCRUSH",
    "BasePyOSDMap",
    "BasePyOSDMapIncremental",
]


class BaseMgrModule:
    """The 44 `_ceph_*` hooks of an active module, bound to one module of one host."""

    def __init__(self, py_modules_ptr: ModuleHost, this_ptr: ModuleHandle) -> None:
        self._host = py_modules_ptr
        self._handle = this_ptr

    # -- cluster state
    def _ceph_get(self, data_name: str) -> Any:
        return self._host.get(data_name)

    def _ceph_get_server(self, hostname: str | None) -> Any:
        return self._host.get_server(hostname)

    def _ceph_get_metadata(self, svc_type: str, svc_id: str) -> dict[str, str] | None:
        return self._host.get_metadata(svc_type, svc_id)

    def _ceph_get_daemon_status(self, svc_type: str, svc_id: str) -> dict[str, str]:
        return self._host.get_daemon_status(svc_type, svc_id)

    def _ceph_get_osdmap(self) -> Any:
        return self._host.get_osdmap()

    def _ceph_have_mon_connection(self) -> bool:
        return self._host.have_mon_connection()

    def _ceph_get_daemon_health_metrics(self) -> dict[str, list[dict[str, Any]]]:
        return self._host.get_daemon_health_metrics()

    # -- identity and configuration
    def _ceph_get_mgr_id(self) -> str:
        return self._host.mgr_id

    def _ceph_get_version(self) -> str:
        return self._host.version_string()

    def _ceph_get_release_name(self) -> str:
        return self._host.release_name()

    def _ceph_lookup_release_name(self, major: int) -> str:
        return self._host.lookup_release_name(major)

    def _ceph_get_context(self) -> object:
        return self._host.context()

    def _ceph_get_ceph_conf_path(self) -> str:
        return self._host.conf_path()

    def _ceph_get_option(self, key: str) -> Any:
        return self._host.get_ceph_option(key)

    def _ceph_get_foreign_option(self, entity: str, key: str) -> Any:
        return self._host.get_foreign_option(entity, key)

    def _ceph_get_module_option(self, module: str, key: str, prefix: str = "") -> Any:
        return self._host.get_module_option(module, key, prefix)

    def _ceph_set_module_option(self, module: str, key: str, val: str | None) -> None:
        self._host.set_module_option(module, key, val)

    # -- KV store
    def _ceph_get_store(self, key: str) -> str | None:
        return self._host.get_store(self._handle.name, key)

    def _ceph_get_store_prefix(self, prefix: str) -> dict[str, str]:
        return self._host.get_store_prefix(self._handle.name, prefix)

    def _ceph_set_store(self, key: str, val: str | None) -> None:
        self._host.set_store(self._handle.name, key, val)

    # -- commands, logs, health
    def _ceph_send_command(
        self, result: Any, svc_type: str, svc_id: str, command: str, tag: str, inbuf: Any
    ) -> None:
        self._host.send_command(self._handle, result, svc_type, svc_id, command, tag, inbuf)

    def _ceph_set_health_checks(self, checks: Any) -> None:
        self._host.set_health_checks(self._handle.name, checks)

    def _ceph_log(self, message: str) -> None:
        self._host.module_log(self._handle.name, message)

    def _ceph_cluster_log(self, channel: str, priority: int, message: str) -> None:
        self._host.cluster_log(channel, priority, message)

    def _ceph_is_authorized(self, arguments: dict[str, str]) -> bool:
        return True  # caps are checked before a command reaches the module

    # -- services, progress, devices
    def _ceph_set_uri(self, uri: str) -> None:
        self._host.set_uri(self._handle.name, uri)

    def _ceph_get_active_uri(self) -> str:
        return self._host.get_active_uri(self._handle.name)

    def _ceph_update_progress_event(
        self, evid: str, desc: str, progress: float, add_to_ceph_s: bool
    ) -> None:
        self._host.update_progress_event(evid, desc, progress, add_to_ceph_s)

    def _ceph_complete_progress_event(self, evid: str) -> None:
        self._host.complete_progress_event(evid)

    def _ceph_clear_all_progress_events(self) -> None:
        self._host.clear_all_progress_events()

    def _ceph_set_device_wear_level(self, devid: str, wear_level: float) -> None:
        self._host.set_device_wear_level(devid, wear_level)

    # -- other modules, librados clients
    def _ceph_dispatch_remote(
        self, module_name: str, method_name: str, args: tuple, kwargs: dict
    ) -> Any:
        return self._host.dispatch_remote(module_name, method_name, args, kwargs)

    def _ceph_register_client(self, addrs: Any) -> None:
        pass  # upstream blocklists these on failover; pyceph's sessions end with the mgr

    def _ceph_unregister_client(self, addrs: Any) -> None:
        pass

    # -- perf counters (reported by the daemons) and queries (none yet)
    def _ceph_get_perf_schema(self, svc_type: str, svc_name: str) -> dict[str, Any]:
        return self._host.get_perf_schema(svc_type, svc_name)

    def _ceph_get_counter(self, svc_type: str, svc_name: str, path: str) -> dict[str, Any]:
        return self._host.get_counter(svc_type, svc_name, path)

    def _ceph_get_latest_counter(self, svc_type: str, svc_name: str, path: str) -> dict[str, Any]:
        return self._host.get_latest_counter(svc_type, svc_name, path)

    def _ceph_add_osd_perf_query(self, query: dict[str, Any]) -> int | None:
        return self._host.osd_perf_queries.add(query)

    def _ceph_remove_osd_perf_query(self, query_id: int) -> None:
        self._host.osd_perf_queries.remove(query_id)

    def _ceph_get_osd_perf_counters(self, query_id: int) -> dict[str, Any] | None:
        return self._host.osd_perf_queries.take_counters(query_id)

    def _ceph_add_mds_perf_query(self, query: dict[str, Any]) -> int | None:
        return None

    def _ceph_remove_mds_perf_query(self, query_id: int) -> None:
        pass

    def _ceph_reregister_mds_perf_queries(self) -> None:
        pass

    def _ceph_get_mds_perf_counters(self, query_id: int) -> dict[str, Any] | None:
        return None


class BaseMgrStandbyModule:
    """Hooks of a module on a standby mgr: read-only, plus the active mgr's URI."""

    def __init__(self, capsule: tuple[ModuleHost, ModuleHandle]) -> None:
        self._host, self._handle = capsule

    def _ceph_get_mgr_id(self) -> str:
        return self._host.mgr_id

    def _ceph_get_module_option(self, key: str, prefix: str = "") -> Any:
        return self._host.get_module_option(self._handle.name, key, prefix)

    def _ceph_get_option(self, key: str) -> Any:
        return self._host.get_ceph_option(key)

    def _ceph_get_store(self, key: str) -> str | None:
        return self._host.get_store(self._handle.name, key)

    def _ceph_get_active_uri(self) -> str:
        return self._host.get_active_uri(self._handle.name)

    def _ceph_get(self, data_name: str) -> Any:
        return self._host.get(data_name)

    def _ceph_log(self, message: str) -> None:
        self._host.module_log(self._handle.name, message)


class BasePyOSDMap:
    """An OSDMap snapshot (upstream's PyOSDMap): dumps as `ceph osd dump -f json`."""

    def __init__(self, osdmap: Any) -> None:
        self._map = osdmap

    def _get_epoch(self) -> int:
        return int(self._map.epoch)

    def _get_crush_version(self) -> int:
        return int(self._map.crush_version)

    def _dump(self) -> dict[str, Any]:
        return self._map.dump()

    def _get_crush(self) -> Any:
        import mgr_module

        return mgr_module.CRUSHMap(self._map)

    def _new_incremental(self) -> Any:
        import mgr_module

        return mgr_module.OSDMapIncremental(self._map.epoch + 1)

    def _apply_incremental(self, inc: Any) -> Any:
        m = self._map.copy()
        for osd, w in getattr(inc, "_reweights", {}).items():
            if osd in m.osds:
                m.osds[osd].weight = int(float(w) * 0x10000)
        inc._apply_upmaps(m)
        m.epoch = inc._get_epoch()
        return type(self)(m)

    def _get_pools_by_take(self, take: int) -> dict[str, list[int]]:
        rules = {r["rule_id"]: r for r in self._map.crush.dump()["rules"]}
        pools = []
        for pid, p in self._map.pools.items():
            steps = rules.get(p.crush_rule, {}).get("steps", [])
            if any(s.get("op") == "take" and s.get("item") == take for s in steps):
                pools.append(int(pid))
        return {"pools": pools}

    def _calc_pg_upmaps(self, inc: Any, max_deviation: int, max_iterations: int, pools: list[str]) -> int:  # fmt: skip
        """OSDMap::calc_pg_upmaps: optimize this map plus `inc`'s upmap changes so far,
        recording the PGs changed in `inc`; the number of PGs changed."""
        from pyceph.mgr.upmap import calc_pg_upmaps

        m = self._map.copy()
        inc._apply_upmaps(m)
        ids = [self._map.pool_name[p] for p in pools if p in self._map.pool_name]
        res = calc_pg_upmaps(m, ids, int(max_deviation), int(max_iterations))
        for key, items in res.new_items.items():
            inc._set_upmap_items(key, items, self._map.pg_upmap_items.get(key))
        for key in res.removed:
            inc._set_upmap_items(key, [], self._map.pg_upmap_items.get(key))
        return res.num_changed

    def _map_pool_pgs_up(self, poolid: int) -> dict[str, list[int]]:
        """{pgid: up OSDs} of every PG of the pool (PyOSDMap map_pool_pgs_up)."""
        p = self._map.pools[poolid]
        return {
            f"{poolid}.{ps:x}": list(self._map.pg_to_up_acting_osds(poolid, ps)[0])
            for ps in range(p.pg_num)
        }

    def _pg_to_up_acting_osds(self, pool_id: int, ps: int) -> dict[str, Any]:
        up, up_primary, acting, acting_primary = self._map.pg_to_up_acting_osds(pool_id, ps)
        return {"up": up, "acting": acting, "up_primary": up_primary, "acting_primary": acting_primary}  # fmt: skip

    def _pool_raw_used_rate(self, pool_id: int) -> float:
        p = self._map.pools[pool_id]
        return float(p.raw_used_rate()) if hasattr(p, "raw_used_rate") else float(p.size)


class BasePyOSDMapIncremental:
    """Changes the balancer builds (upstream's PyOSDMapIncremental)."""

    def __init__(self, epoch: int) -> None:
        self._epoch = epoch
        self._reweights: dict[int, float] = {}
        self._weight_set: dict[str, float] = {}
        #: upstream new_pg_upmap_items / old_pg_upmap_items, by (pool, ps)
        self._new_upmap_items: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._old_upmap_items: set[tuple[int, int]] = set()

    def _set_upmap_items(
        self, key: tuple[int, int], items: list[tuple[int, int]], base: list[tuple[int, int]] | None
    ) -> None:
        """Record a PG's items (none: remove them) against the map's own (`base`)."""
        self._new_upmap_items.pop(key, None)
        self._old_upmap_items.discard(key)
        if items and items != base:
            self._new_upmap_items[key] = list(items)
        elif not items and base:
            self._old_upmap_items.add(key)

    def _apply_upmaps(self, m: Any) -> None:
        for key in self._old_upmap_items:
            m.pg_upmap_items.pop(key, None)
        for key, items in self._new_upmap_items.items():
            m.pg_upmap_items[key] = list(items)

    def _get_epoch(self) -> int:
        return self._epoch

    def _dump(self) -> dict[str, Any]:
        return {
            "epoch": self._epoch,
            "new_weight": [
                {"osd": k, "weight": int(v * 0x10000)} for k, v in sorted(self._reweights.items())
            ],  # fmt: skip
            "new_pg_upmap_items": [
                {"pgid": f"{p}.{s:x}", "mappings": [{"from": a, "to": b} for a, b in items]}
                for (p, s), items in sorted(self._new_upmap_items.items())
            ],
            "old_pg_upmap_items": [f"{p}.{s:x}" for p, s in sorted(self._old_upmap_items)],
        }

    def _set_osd_reweights(self, weightmap: dict[int, float]) -> None:
        self._reweights.update({int(k): float(v) for k, v in weightmap.items()})

    def _set_crush_compat_weight_set_weights(self, weightmap: dict[str, float]) -> None:
        self._weight_set.update({str(k): float(v) for k, v in weightmap.items()})


class BasePyCRUSH:
    """The CRUSH map of an OSDMap snapshot (upstream's PyCRUSH)."""

    def __init__(self, osdmap: Any) -> None:
        self._map = osdmap

    def _dump(self) -> dict[str, Any]:
        return self._map.crush.dump()

    def _get_item_weight(self, item: int) -> int | None:
        for b in self._dump()["buckets"]:
            for it in b["items"]:
                if it["id"] == item:
                    return it["weight"]
        return None

    def _get_item_name(self, item: int) -> str | None:
        d = self._dump()
        for dev in d["devices"]:
            if dev["id"] == item:
                return dev["name"]
        for b in d["buckets"]:
            if b["id"] == item:
                return b["name"]
        return None

    def _find_takes(self) -> dict[str, list[int]]:
        takes = {s["item"] for r in self._dump()["rules"] for s in r["steps"] if s.get("op") == "take"}  # fmt: skip
        return {"takes": sorted(takes)}

    def _find_roots(self) -> dict[str, list[int]]:
        d = self._dump()
        children = {it["id"] for b in d["buckets"] for it in b["items"]}
        return {"roots": [b["id"] for b in d["buckets"] if b["id"] not in children]}

    def _get_take_weight_osd_map(self, root: int) -> dict[str, dict[int, float]]:
        d = self._dump()
        buckets = {b["id"]: b for b in d["buckets"]}
        weights: dict[int, float] = {}

        def walk(bid: int) -> None:
            for it in buckets.get(bid, {"items": []})["items"]:
                if it["id"] >= 0:
                    weights[it["id"]] = weights.get(it["id"], 0.0) + it["weight"] / 0x10000
                else:
                    walk(it["id"])

        if root >= 0:
            weights[root] = 1.0
        else:
            walk(root)
        total = sum(weights.values()) or 1.0
        return {"weights": {k: v / total for k, v in weights.items()}}
