"""cronflow: a Kubernetes operator that runs flow calls on a cron schedule."""
