"""The dashboard: a static page at / and the JSON endpoints under /api/v1/dashboard that it reads."""
