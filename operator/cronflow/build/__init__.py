"""Pure builders: ScheduledJob -> Kubernetes manifests (no I/O)."""
