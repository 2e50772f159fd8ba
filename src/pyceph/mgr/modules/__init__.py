"""The ceph-mgr module host: discovery, loading and running of `mgr_module` modules.

`registry` finds and loads modules, `argspec` maps `CLICommand` annotations to
command descriptors, `options` types and checks MODULE_OPTIONS values,
`clusterstate` answers `get()`, `host` runs the modules (serve threads, notify
finishers, commands, options, KV store, health) and `hooks` is the
`ceph_module` API they call back into.
"""
