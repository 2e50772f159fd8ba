"""CRUSH: maps, rjenkins1 hashing, straw2 and the other bucket types, rules; bit-exact with upstream."""
