"""The embedded cluster: `mon_host = embedded:[DIR]` runs mon, mgr and OSDs in-process."""
