"""Authentication: cephx-style proofs and tickets, rotating service keys, caps."""
