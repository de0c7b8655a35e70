"""Pure builders: a ScheduledJob spec -> its children (CronJob, run Jobs, the watcher Deployment)."""
