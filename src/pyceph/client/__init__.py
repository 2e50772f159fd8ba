"""The async client core behind the rados module: MonClient session, Objecter, loop thread."""
