"""Serving the explorer: a threaded WSGI server on the loopback address by default, so only this
machine's browser reaches it."""

from __future__ import annotations

import threading
import webbrowser

from werkzeug.serving import BaseWSGIServer, make_server

from pipelines.explorer.app import create
from pipelines.explorer.snapshot import Snapshot


def start(host: str = "127.0.0.1", port: int = 8050, snap: Snapshot | None = None) -> BaseWSGIServer:
    """A server bound to ``host``:``port`` (0: a free port; read ``server.port``), not yet serving.
    Raises NothingPublished before binding when no snapshot is published."""
    snap = snap or Snapshot()
    snap.identity()
    return make_server(host, port, create(snap).server, threaded=True)


def serve(host: str, port: int, open_browser: bool) -> None:
    """Serve until interrupted; open the default browser on the first page."""
    server = start(host, port)
    url = f"http://{host}:{server.port}/"
    print(f"costcurve explorer on {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
