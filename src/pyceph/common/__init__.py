"""Shared foundations: options and configuration, keyrings, errors, encodings, runtime interfaces."""
