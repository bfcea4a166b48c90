"""Running Ballast as a service: /health/, /metrics and JSON log lines (docs/operations.md)."""
