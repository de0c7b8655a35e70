"""Command-line tools for cronflow users: the `kubectl cronflow` plugin."""
