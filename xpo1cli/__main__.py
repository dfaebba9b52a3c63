"""Entry point for the `xpo1` script and `python -m xpo1cli`."""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    """Run the CLI with the conventions of a Unix filter: a closed pipe ends the program quietly
    (exit 141, as `yes | head` does), Ctrl-C exits 130 with no traceback."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    def interrupted(signum, frame):  # noqa: ARG001
        try:
            sys.stderr.write("\ninterrupted\n")
            sys.stderr.flush()
        finally:
            os._exit(130)

    signal.signal(signal.SIGINT, interrupted)
    from .cli import app, hoist_global_options

    app(args=hoist_global_options(sys.argv[1:]), prog_name="xpo1")


if __name__ == "__main__":
    main()
