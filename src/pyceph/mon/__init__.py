"""The monitor: cluster maps and their commands (sans-I/O MonState), its daemon shell, MonClient."""
