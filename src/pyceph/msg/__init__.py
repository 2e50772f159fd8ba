"""Messaging: frame codec, authenticated connections, the messenger (see docs/protocol.md)."""
