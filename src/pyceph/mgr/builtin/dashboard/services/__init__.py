"""Dashboard services: logic the controllers share (auth, cluster queries)."""
