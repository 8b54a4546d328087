"""What every cloud service shares, written once: app factory, settings, database, cache and
rate limits, auth dependencies, errors, health, metrics, request ids and logs."""
