"""The client side of a monitor session (upstream `src/mon/MonClient.cc`).

`monclient.MonClient` authenticates with a monitor, hunts for another when the session
drops, subscribes to maps (OSDMap, MgrMap, config, logs) and sends commands. Daemons
(OSD, mgr) and clients use it; it sits below them and never imports the monitor server
package `pyceph.mon`.
"""
