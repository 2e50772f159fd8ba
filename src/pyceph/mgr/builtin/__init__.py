"""pyceph's built-in mgr modules, one subpackage each (found by the module host).

Each is written against the public `mgr_module` API only, exactly as a
third-party module would be.
"""
