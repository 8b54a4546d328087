"""`python -m cloud`: serve the cloud services, without the CLI (and so without the hub's code)."""

from __future__ import annotations

import argparse
import logging
import sys

from cloud.serve import require_cloud_extra, serve
from models.errors import CompanionError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloud", description="Serve Companion's cloud services.")
    parser.add_argument("--service", action="append", help="run only this service (repeat)")
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8400)")
    parser.add_argument("--workers", type=int, default=1, help="processes; >1 needs Redis and PostgreSQL")
    args = parser.parse_args(argv)
    try:
        require_cloud_extra()
        from cloud.common.settings import CloudSettings

        settings = CloudSettings()
        if args.service:
            settings.services = args.service
        logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr)
        serve(settings, host=args.host, port=args.port, workers=args.workers)
    except CompanionError as err:
        print(f"error [{err.code}] {err.message}", file=sys.stderr)
        if err.hint:
            print(err.hint, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
