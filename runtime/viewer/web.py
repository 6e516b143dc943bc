"""The viewer in a browser: ``hamlet watch --web`` and ``hamlet run --watch --web``.

textual-serve (the ``web`` extra) serves a page on 127.0.0.1; each page opened starts its
own ``hamlet watch`` process, whose screen the page draws. So the browser shows the very
viewer of the terminal, keys included, and several pages can watch one training stream.
"""

from __future__ import annotations

import errno
import shlex
import socket
import sys
from collections.abc import Sequence
from types import ModuleType

from hamlet.runtime.experiments.extras import require
from hamlet.schemas.errors import Diagnostic, RunError

HOST = "127.0.0.1"


def check_port(port: int) -> None:
    """E315 unless ``port`` can be bound on 127.0.0.1 now (the server binds it later,
    where its error would be a traceback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            why = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error})"
            raise RunError(
                Diagnostic(
                    "E315",
                    f"port {port} on {HOST} {why}",
                    hint="choose another with --port P (or stop what listens there)",
                    file="<command line>",
                    path="--port",
                )
            ) from None


def ready_to_serve(port: int) -> ModuleType:
    """textual-serve's server module, once it is installed and ``port`` is free; checked
    before training starts, so a run never trains with no page to watch it on."""
    served = require("textual_serve.server", "web", "the viewer in a browser", "--web")
    check_port(port)
    return served


def serve_viewer(watch_args: Sequence[str], *, port: int, title: str) -> None:
    """Serve ``hamlet watch WATCH_ARGS`` as a web page on ``port`` until Ctrl-C."""
    served = ready_to_serve(port)
    command = shlex.join([sys.executable, "-m", "hamlet.runtime.cli", "watch", *watch_args])
    print(f"viewer: open http://{HOST}:{port} in a browser (Ctrl-C here stops it)", flush=True)
    served.Server(command, host=HOST, port=port, title=title).serve()
