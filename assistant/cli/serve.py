"""`assistant serve`: the hub (HTTP/WebSocket API and the companion page)."""

from __future__ import annotations

import argparse
import logging
import sys

from assistant.cli.common import _app

log = logging.getLogger("assistant")


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.hub.limits import Limits
    from assistant.hub.server import check_bind, serve

    if not args.certfile:  # refuse an unsafe address before the slow start, not after it
        check_bind(args.host, args.certfile, args.keyfile, paired=1)
    print("Starting the hub (the first start trains the language model)...", file=sys.stderr)
    app = _app(args)
    try:
        serve(
            app,
            args.host,
            args.port,
            certfile=args.certfile,
            keyfile=args.keyfile,
            browser_user=args.user,
            limits=Limits(
                rate_per_s=args.rate_limit,
                burst=max(40, int(args.rate_limit * 2)),
                request_s=args.request_timeout,
                connections_per_address=args.connections_per_address,
            ),
            forwarded_allow_ips=args.forwarded_allow_ips,
            announce=lambda line: print(line, flush=True),
        )
    finally:
        app.close()
    return 0
