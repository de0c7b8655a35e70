"""Notifications when a run finished: webhook and email, delivered off the reconcile path."""
