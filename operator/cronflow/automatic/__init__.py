"""Automatic mode: the watcher Deployment, the client of its HTTP API, and the sync of claims to Jobs."""
