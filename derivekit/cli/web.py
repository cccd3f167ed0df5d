"""``derivekit serve``: the local web page (derivekit.web) on uvicorn.

Binds 127.0.0.1 unless told otherwise; any other address prints a warning, since the page
then answers whoever can reach the machine. Needs the ``web`` extra.
"""

from __future__ import annotations

import argparse
import sys

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("examples:\n  derivekit serve\n  derivekit serve --port 8080 --workers 4 --open\n\n"
                     'Needs: pip install "derivekit[web]"')
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes that compute (default 2)")
    parser.add_argument("--queue", type=int, default=16,
                        help="requests that may wait for a worker; more are answered 503 (default 16)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def run(args: argparse.Namespace) -> int:
    from derivekit.errors import DerivekitError
    try:
        import uvicorn
        from derivekit.web.app import create_app
    except ImportError as exc:
        raise DerivekitError(f"the web page needs packages that are not installed ({exc.name})",
                             hint='pip install "derivekit[web]"') from None
    if not 0 < args.port < 65536:
        raise DerivekitError(f"--port must be between 1 and 65535, not {args.port}")
    if not 1 <= args.workers <= 64:
        raise DerivekitError(f"--workers must be between 1 and 64, not {args.workers}")
    _check_can_listen(args.host, args.port)
    if args.host not in LOOPBACK:
        print(f"warning: binding {args.host}: the page, and the work it does, is open to every "
              "machine that can reach this one; derivekit serve has no login", file=sys.stderr)
    url = url_of(args.host, args.port)
    print(f"derivekit serves {url}  (Ctrl-C stops it)", flush=True)
    if args.open:
        import threading
        import webbrowser
        opener = threading.Timer(1.0, webbrowser.open, args=(url,))
        opener.daemon = True  # never keeps the process alive on its own
        opener.start()
    app = create_app(workers=args.workers, queue=max(0, args.queue))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _check_can_listen(host: str, port: int) -> None:
    """Refuse an empty or unknown host, or a port already taken, before the server starts
    (uvicorn would print a traceback for a port in use)."""
    import socket

    from derivekit.errors import DerivekitError
    if not host.strip():
        raise DerivekitError("--host is empty", hint="leave it out for 127.0.0.1 (this machine only)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise DerivekitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                             hint="choose another --port, or stop the program that uses it") from None
