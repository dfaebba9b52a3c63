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
    It answers isatty() as the real stdout does: tables on a terminal, CSV when piped. A closed
    standard output (`xpo1 list >&-`, real is None) is not a terminal; it fails only if the run
    has something to write to it."""

    def __init__(self, real):
        super().__init__()
        self._real = real

    def isatty(self) -> bool:
        return self._real is not None and self._real.isatty()

    def fileno(self) -> int:  # the terminal's width is read from the real stdout
        if self._real is None:
            raise io.UnsupportedOperation("standard output is closed")
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # text is encoded once, at the end
        return "utf-8"


class _Messages:
    """Standard error as a run sees it: a message that cannot be written (`2>/dev/full`, a
    closed pipe) is dropped, not raised, so that it changes neither the run nor its exit code;
    a stderr that failed is pointed at /dev/null at the end, so that the interpreter's own last
    flush cannot fail either (exit 120)."""

    def __init__(self, real):
        self._real = real
        self.failed = False

    def write(self, text: str) -> int:
        try:
            return self._real.write(text)
        except (OSError, ValueError):
            self.failed = True
            return len(text)

    def flush(self) -> None:
        try:
            self._real.flush()
        except (OSError, ValueError):
            self.failed = True

    def __getattr__(self, name):  # isatty, fileno, encoding, errors ... as the real stderr
        return getattr(self._real, name)

    def close_if_failed(self) -> None:
        self.flush()
        if self.failed:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self._real.fileno())


def _say(message: str) -> None:
    """One line on stderr, if there is a stderr (`xpo1 ... 2>&-` closes it)."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(message)
            sys.stderr.flush()


def _write_all(out, data: bytes) -> None:
    """Write every byte of data to out, or raise OSError. A raw (unbuffered) stream may write
    part of what it is given (a file size limit, a disk filling up): the rest is written again
    until the stream takes nothing, which is an error, never a silent truncation."""
    view = memoryview(data)
    while view:
        written = out.write(view)
        if written is None:  # a non-blocking stream that cannot take more now
            raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        if written <= 0:
            raise OSError(errno.EIO, "short write: the output took only part of what was written")
        view = view[written:]


def _release(held: _Held, real, keep: bool) -> int:
    """Write what was held to the real stdout in one go; 0, or 1 with one line on stderr."""
    text = held.getvalue() if keep else ""
    if not text:
        return 0
    if real is None:
        _say("xpo1: cannot write to standard output: it is closed; nothing written\n")
        return 1
    encoding = real.encoding or "utf-8"
    try:
        data = text.encode(encoding, real.errors or "strict")
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start:exc.start + 1]
        _say(f"xpo1: the output has '{char}' (U+{ord(char):04X}), which the output "
             f"encoding {encoding} cannot hold; nothing written. Set PYTHONIOENCODING=utf-8\n")
        return 1
    try:
        real.flush()
        out = real.buffer if hasattr(real, "buffer") else None
        if out is None:
            real.write(text)
        else:
            _write_all(out, data)
        real.flush()
    except (OSError, ValueError) as exc:  # ValueError: a stream closed under it
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            raise
        name = getattr(real, "name", "standard output")
        where = "standard output" if not isinstance(name, str) or name == "<stdout>" else name
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _say(f"xpo1: cannot write to {where}: {reason}\n")
        with contextlib.suppress(OSError, ValueError):  # the stream's buffer cannot be written either
            os.dup2(os.open(os.devnull, os.O_WRONLY), real.fileno())
        return 1
    return 0


def _fill_closed_descriptors() -> None:
    """Point a closed standard descriptor (0, 1 or 2) at /dev/null, so that no file this run opens
    takes its number and receives what was meant for a terminal. Python has already set
    sys.stdout (or stdin, stderr) to None for it: what is written there is refused at the end."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                opened = os.open(os.devnull, os.O_RDWR)
                if opened != fd:  # a lower one was free after all: not ours to fill
                    os.close(opened)


def main() -> None:
    """Run the CLI with the conventions of a Unix filter: a closed pipe ends the program quietly
    (exit 141, as `yes | head` does), Ctrl-C exits 130 with no traceback. Output is written once
    at the end, and not at all when the run fails (exit 1 or 2 from an xpo1 error)."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    def interrupted(signum, frame):  # noqa: ARG001
        try:
            _say("\ninterrupted\n")
        finally:
            os._exit(130)

    signal.signal(signal.SIGINT, interrupted)
    _fill_closed_descriptors()
    # A run builds many short-lived rows (a tuple per outcome row of a large dataset) that form no
    # cycles; at the default threshold the cycle collector walks them every 700 allocations, a
    # quarter of `list`'s time on 10,000 studies. Collected less often, peak memory is the same.
    gc.set_threshold(100_000, 50, 100)
    from .cli import STATE, app, hoist_global_options

    real = sys.stdout
    held = _Held(real)
    messages = _Messages(sys.stderr) if sys.stderr is not None else None
    if messages is not None:
        sys.stderr = messages
    code = 0
    try:
        sys.stdout = held
        app(args=hoist_global_options(sys.argv[1:]), prog_name="xpo1")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            _say(f"{exc.code}\n")
    finally:
        sys.stdout = real
    written = _release(held, real, keep=not STATE.get("failed"))
    if messages is not None:
        messages.close_if_failed()
        sys.stderr = messages._real
    sys.exit(code or written)


if __name__ == "__main__":
    main()
