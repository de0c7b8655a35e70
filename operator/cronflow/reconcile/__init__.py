"""Reconcile: desired against existing, the smallest writes, all through an injected Writer."""
