"""cronflow-api: the proprietary scheduler's REST API on top of ScheduledJobs, acting with the caller's token."""
