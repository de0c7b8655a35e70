"""Prometheus metrics of the operator (served on --metrics-port)."""

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECONCILES = Counter("cronflow_reconciles_total", "ScheduledJob reconcile passes", ["result"])
RECONCILE_SECONDS = Histogram(
    "cronflow_reconcile_duration_seconds", "Time of one ScheduledJob reconcile pass",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RUNS = Counter("cronflow_runs_total", "Finished runs recorded in status", ["trigger", "status"])
NOTIFICATION_FAILURES = Counter(
    "cronflow_notification_failures_total", "Notifications that failed after all retries", ["channel"]
)

LEADER = Gauge(
    "cronflow_leader", "1 while this operator holds the lease and acts, 0 while it follows (writes nothing)"
)


def serve(port: int) -> None:
    """Serve /metrics on all interfaces (port 0: not at all)."""
    if port:
        start_http_server(port)
