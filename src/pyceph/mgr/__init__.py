"""The manager daemon: PG statistics, mgr commands, service map."""
