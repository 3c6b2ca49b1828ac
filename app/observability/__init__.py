"""What an on-call engineer sees of one process: its Prometheus metrics (metrics.py), its log
lines and their context (logs.py), and the ASGI middleware that gives every request an id, a
latency observation and one access line (asgi.py). Nothing here reads the database: the gauges
that do are computed at scrape time by app/ops/metrics.py."""
