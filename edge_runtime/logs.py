"""The hub's logging set-up: the shared JSON formatter (models.logs), configured at start-up."""

from models.logs import JsonFormatter, configure_logging, fields

__all__ = ["JsonFormatter", "configure_logging", "fields"]
