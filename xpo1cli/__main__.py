"""Entry point for the `xpo1` script and `python -m xpo1cli`."""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import os
import signal
import sys


class _Held(io.StringIO):
    """Standard output held in memory and written once at the end, so that a run that fails
    half-way (an error, a character the output encoding cannot hold) leaves no partial file.
    It answers isatty() as the real stdout does: tables on a terminal, CSV when piped."""

    def __init__(self, real):
        super().__init__()
        self._real = real

    def isatty(self) -> bool:
        return self._real.isatty()

    def fileno(self) -> int:  # the terminal's width is read from the real stdout
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # text is encoded once, at the end
        return "utf-8"


def _release(held: _Held, real, keep: bool) -> int:
    """Write what was held to the real stdout in one go; 0, or 1 with one line on stderr."""
    text = held.getvalue() if keep else ""
    if not text:
        return 0
    encoding = real.encoding or "utf-8"
    try:
        data = text.encode(encoding, real.errors or "strict")
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start:exc.start + 1]
        sys.stderr.write(f"xpo1: the output has '{char}' (U+{ord(char):04X}), which the output "
                         f"encoding {encoding} cannot hold; nothing written. "
                         "Set PYTHONIOENCODING=utf-8\n")
        return 1
    try:
        real.flush()
        out = real.buffer if hasattr(real, "buffer") else None
        if out is None:
            real.write(text)
        else:
            out.write(data)
        real.flush()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        name = getattr(real, "name", "standard output")
        where = "standard output" if not isinstance(name, str) or name == "<stdout>" else name
        sys.stderr.write(f"xpo1: cannot write to {where}: {exc.strerror or exc}\n")
        with contextlib.suppress(OSError, ValueError):  # the stream's buffer cannot be written either
            os.dup2(os.open(os.devnull, os.O_WRONLY), real.fileno())
        return 1
    return 0


def main() -> None:
    """Run the CLI with the conventions of a Unix filter: a closed pipe ends the program quietly
    (exit 141, as `yes | head` does), Ctrl-C exits 130 with no traceback. Output is written once
    at the end, and not at all when the run fails (exit 1 or 2 from an xpo1 error)."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    def interrupted(signum, frame):  # noqa: ARG001
        try:
            sys.stderr.write("\ninterrupted\n")
            sys.stderr.flush()
        finally:
            os._exit(130)

    signal.signal(signal.SIGINT, interrupted)
    # A run builds many short-lived rows (a tuple per outcome row of a large dataset) that form no
    # cycles; at the default threshold the cycle collector walks them every 700 allocations, a
    # quarter of `list`'s time on 10,000 studies. Collected less often, peak memory is the same.
    gc.set_threshold(100_000, 50, 100)
    from .cli import STATE, app, hoist_global_options

    real = sys.stdout
    held = _Held(real) if real is not None else None
    code = 0
    try:
        if held is not None:
            sys.stdout = held
        app(args=hoist_global_options(sys.argv[1:]), prog_name="xpo1")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            sys.stderr.write(f"{exc.code}\n")
    finally:
        if held is not None:
            sys.stdout = real
    if held is not None:
        written = _release(held, real, keep=not STATE.get("failed"))
        code = code or written
    sys.exit(code)


if __name__ == "__main__":
    main()
