"""The ScheduledJob API: pydantic models and the CRD generated from them."""
