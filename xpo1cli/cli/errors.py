"""The one error boundary of the CLI: usage errors said the way xpo1 says its own, library errors
as one line with an exit code (2: usage, 1: data), and files written whole or not at all.

Only typer and the standard library are imported here: `--help` and completion stay instant.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from pathlib import Path

import typer
from typer import Context
from typer.core import TyperGroup  # the class `typer.Typer(cls=...)` takes

ROOT_OPTIONS = ("--data", "--version")
MAX_ECHO = 60  # characters of a user's input quoted back in a message
EXIT_USAGE = 2
EXIT_DATA = 1

# what this run knows: the dataset it reads (--data) and whether it failed (a failed run leaves
# no partial output: __main__ holds standard output and drops it)
STATE: dict[str, str | None] = {"data": None, "failed": None}


def clip_quoted(message: str) -> str:
    """Cut every quoted piece of a message (what the user typed, usually) to MAX_ECHO characters."""
    parts = message.split("'")
    for i in range(1, len(parts) - 1, 2):
        if len(parts[i]) > MAX_ECHO:
            parts[i] = parts[i][:MAX_ECHO] + "…"
    return "'".join(parts)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """One clear line on stderr, then exit (2: usage, 1: data). Line breaks inside what a user
    typed are shown escaped, so the message stays one line."""
    message = clip_quoted(message.replace("\r", "\\r").replace("\n", "\\n"))
    STATE["failed"] = "yes"  # a failed run leaves no partial output (see __main__)
    typer.echo(f"xpo1: {message}", err=True)
    raise typer.Exit(code)


def library_error(exc: Exception) -> tuple[int, str] | None:
    """The exit code and message of one of the library's errors (None: not one of them); the one
    table of how the API's typed errors are said on the command line."""
    from ..api import (
        CannotWrite,
        CrossRegimenPool,
        DatasetError,
        InvalidValue,
        MixedPool,
        PoolError,
        RecordProblems,
        UnknownName,
    )

    table = ((UnknownName, EXIT_USAGE, str),
             (InvalidValue, EXIT_USAGE, str),
             (CrossRegimenPool, EXIT_USAGE, _across_regimens),
             (MixedPool, EXIT_USAGE, _mixed_pool),
             (PoolError, EXIT_USAGE, str),
             (DatasetError, EXIT_DATA, lambda e: f"invalid dataset: {e}"),
             (CannotWrite, EXIT_DATA, str),
             (RecordProblems, EXIT_DATA, lambda e: f"cannot import: {e}"))
    for kind, code, say in table:
        if isinstance(exc, kind):
            return code, say(exc)
    return None


def _across_regimens(exc) -> str:
    """A pool refused for mixing regimens, with the options that go on."""
    ways = ["pool one with --regimen X", *(["one pool per regimen with --by regimen"] if exc.by_regimen else []),
            "or pool across them anyway with --across-regimens"]
    return (f"the matching cohorts are of {len(exc.regimens)} regimens ({', '.join(exc.regimens)}): a pooled "
            f"figure across regimens is no one regimen's; {', '.join(ways)}"
            + ("" if exc.by_regimen else " (--leave-one-out refits the pool across regimens)"))


def _mixed_pool(exc) -> str:
    """A pool refused for being no one population's, with its cohorts and the options that go on."""
    return (f"not pooled: {exc.reason}, so a pooled figure would be no one population's; the cohorts: "
            f"{exc.cohort_text()}; pool one population with --disease or --setting, one pool each with "
            "--by, or pool them anyway with --allow-mixed (the warnings stay)")


def guarded(func):
    """Turn the library's errors into one-line messages with exit codes (`library_error`). Every
    command is registered through it (see `xpo1cli.cli`), so none can go without."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:
            said = library_error(exc)
            if said is not None:
                from ..api import RecordProblems

                if isinstance(exc, RecordProblems):  # each file's problem, then the one line
                    for p in exc.problems:
                        typer.echo(f"  {p}", err=True)
                fail(said[1], said[0])
            if os.environ.get("XPO1_DEBUG"):  # a bug: one line for the user, the traceback on request
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (set XPO1_DEBUG=1 for the traceback)",
                 EXIT_DATA)

    return wrapper


# --- click's usage errors, said xpo1's way --------------------------------------------------------


def _split_opt(opt: str) -> tuple[str, str]:
    """An option's prefix and name, as click splits them: '--disease' -> ('--', 'disease')."""
    first = opt[:1]
    if first.isalnum():
        return "", opt
    return (opt[:2], opt[2:]) if opt[1:2] == first else (first, opt[1:])


def _option_table(command, ctx: Context) -> tuple[dict, dict]:
    """The long and short spellings of `command`'s options (click's `get_params`), each to
    (name, the option as said in a message, whether a second use is refused, values it takes).
    A boolean flag's two halves (--chart/--no-chart) share the name, as in click's parser."""
    longs: dict[str, tuple] = {}
    shorts: dict[str, tuple] = {}
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", None) != "option":
            continue
        once = not param.multiple and not param.count and param.name != "help"
        takes = 0 if param.is_flag else param.nargs
        halves = [param.opts, param.secondary_opts] if param.is_flag and getattr(param, "is_bool_flag", False) \
            and param.secondary_opts else [param.opts]
        for half in halves:
            short = [o for o in half if len(_split_opt(o)[0]) == 1 and len(_split_opt(o)[1]) == 1]
            long = [o for o in half if o not in short]
            entry = (param.name, "/".join(long or short), once, takes)
            longs.update(dict.fromkeys(long, entry))
            shorts.update(dict.fromkeys(short, entry))
    return longs, shorts


def _repeated(command, ctx: Context, args: list[str]) -> str | None:
    """The first option of `command` that `args` give more than once, named as in its help (only
    --partner may repeat: a second --disease would silently replace the first). `args` are read as
    click reads them (long options with or without '=', clusters of short ones, '--' ends the
    options, a group stops at its command), up to anything click would refuse: the real parse
    says what is wrong there."""
    longs, shorts = _option_table(command, ctx)
    seen: dict[str, list[str]] = {}
    rest = list(args)

    def take(entry, attached: str | None) -> bool:
        if entry[3]:
            if attached is not None:
                rest.insert(0, attached)
            if len(rest) < entry[3]:
                return False
            del rest[:entry[3]]
        if entry[2]:
            seen.setdefault(entry[0], []).append(entry[1])
        return True

    def read(arg: str) -> bool:
        """Take one option token (and its values); False where click would refuse it."""
        name, eq, value = arg.partition("=")
        if name in longs:
            return not (eq and not longs[name][3]) and take(longs[name], value if eq else None)
        if arg[:2] == "--":
            return False
        for i, ch in enumerate(arg[1:], start=2):
            entry = shorts.get(f"-{ch}")
            if entry is None or not take(entry, arg[i:] if entry[3] and i < len(arg) else None):
                return False
            if entry[3]:
                break
        return True

    while rest:
        arg = rest.pop(0)
        if arg == "--":
            break
        if arg[:1] != "-" or len(arg) == 1:
            if not command.allow_interspersed_args:
                break
        elif not read(arg):
            break
    for spelled in seen.values():
        if len(spelled) > 1:
            return "/".join(dict.fromkeys(spelled))
    return None


def usage_error(exc: BaseException) -> bool:
    """Whether exc is one of click's usage errors (exit code 2, with the context it arose in).
    Typer exports none of click's exception classes but BadParameter (one of them), so they are
    known by what click documents of them; `ctx.fail` raises one."""
    return getattr(exc, "exit_code", None) == EXIT_USAGE and hasattr(exc, "ctx") \
        and callable(getattr(exc, "format_message", None))


def help_for_no_args(exc) -> bool:
    """Whether a usage error is click's help for a command given no arguments (no_args_is_help),
    to be shown as click shows it rather than said as an error."""
    ctx = exc.ctx
    return ctx is not None and ctx.command.no_args_is_help and exc.message == ctx.get_help()


def _usage_message(exc) -> str:
    """Click's message, said the way xpo1's own errors are: suggestions only when close."""
    if hasattr(exc, "possibilities") and hasattr(exc, "option_name"):  # no such option
        name = exc.option_name
        if name.split("=")[0] in ROOT_OPTIONS and exc.ctx is not None and exc.ctx.parent is not None:
            return (f"{name.split('=')[0]} is an option of xpo1 itself: put it before the command, "
                    f"e.g. xpo1 {name.split('=')[0]} ... {exc.ctx.info_name}")
        close = [p for p in (exc.possibilities or [])
                 if difflib.SequenceMatcher(None, name, p).ratio() >= 0.75]
        return exc.message + (f"; did you mean {' or '.join(sorted(close)[:3])}?" if close else "")
    return exc.format_message()


def _show_usage_error(exc):
    message = _usage_message(exc)
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    path = exc.ctx.command_path if exc.ctx is not None else "xpo1"
    # click quotes some of what was typed and not the rest: cut every long word
    message = re.sub(r"\S{" + str(MAX_ECHO + 1) + ",}", lambda m: m.group(0)[:MAX_ECHO] + "…",
                     clip_quoted(message).replace("\n", " "))
    typer.echo(f"xpo1: {message}", err=True)
    typer.echo(f"try '{path} --help'", err=True)
    raise typer.Exit(EXIT_USAGE)


class Group(TyperGroup):
    """The root command: click's usage errors look like xpo1's own (`xpo1: ...` and a hint), and
    an option given twice is refused instead of the last one silently winning.

    Its commands are built when first used, not all on every call: `lazy` maps each name to its
    function and the wrapper it is built with (set by `xpo1cli.cli`), and `xpo1 --help` reads
    their short help from the docstrings alone, so a run builds only the command it runs."""

    lazy: dict = {}

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str):
        if cmd_name not in self.commands and cmd_name in self.lazy:
            import typer.main

            function, wrap = self.lazy[cmd_name]
            one = typer.Typer(add_completion=False, rich_markup_mode=self.rich_markup_mode)
            one.command(cmd_name)(guarded(wrap(function) if wrap is not None else function))
            self.commands[cmd_name] = typer.main.get_command(one)  # the app of one command is that command
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Context, formatter) -> None:
        """Click's command list, with each short help taken from the docstring unbuilt."""
        import inspect

        from typer.core import TyperCommand

        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:  # an unbuilt command's short help: a bare command with its docstring says it
            built = self.commands.get(name) or TyperCommand(name, help=inspect.getdoc(self.lazy[name][0]))
            rows.append((name, built.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            twice = _repeated(self, ctx, args)
            if twice:
                ctx.fail(f"{twice} given more than once; give it once")
            return super().parse_args(ctx, args)
        except Exception as exc:
            if not usage_error(exc) or help_for_no_args(exc):
                raise
            _show_usage_error(exc)

    def resolve_command(self, ctx: Context, args: list[str]):
        """Click's, and a refusal of an option the command is given twice."""
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not ctx.resilient_parsing:
            sub = ctx.meta["xpo1.command"] = Context(command, info_name=name, parent=ctx)
            twice = _repeated(command, sub, rest)
            if twice:
                sub.fail(f"{twice} given more than once; give it once (only --partner may repeat)")
        return name, command, rest

    def invoke(self, ctx: Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not usage_error(exc) or help_for_no_args(exc):
                raise
            if exc.ctx is None:
                exc.ctx = ctx.meta.get("xpo1.command")
            _show_usage_error(exc)


# --- files written whole or not at all ------------------------------------------------------------


def cannot_write(path: Path, exc: OSError | str) -> None:
    reason = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    fail(f"cannot write {path}: {reason}; nothing written", EXIT_DATA)


def check_writable(path: Path) -> None:
    """Refuse, before any work or output, a file that cannot be created where the user asked."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        if path.is_dir():
            cannot_write(path, "it is a folder")
        if not folder.is_dir():
            cannot_write(path, "no such folder" if not folder.exists() else "not in a folder")
        if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
            cannot_write(path, "permission denied")
    except (OSError, ValueError) as exc:
        cannot_write(path, exc if isinstance(exc, OSError) else str(exc))


def check_folder(given: str, option: str) -> Path:
    """The folder of a folder option (`--out DIR`), refused before any work when it is empty or
    names something that is not a writable folder and cannot be made one: a usage error."""
    if not given.strip():
        fail(f"{option} needs a folder, not an empty value")
    folder = Path(given)
    try:
        existing = next((p for p in [folder, *folder.absolute().parents] if p.exists()), None)
        if existing is None or not existing.is_dir():
            reason = ("it is a file, not a folder" if existing == folder
                      else f"{existing} is a file, not a folder" if existing is not None else "no such folder")
        elif not os.access(existing, os.W_OK | os.X_OK):
            reason = "permission denied"
        else:
            return folder
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    fail(f"{option} {folder}: cannot write there: {reason}; nothing written", EXIT_USAGE)


def write_beside(path: Path, write) -> None:
    """write(tmp) to a temporary file in the target's folder, then rename it into place: the
    target is either the whole new file or untouched."""
    write_together({path: write})


def write_together(files: dict[Path, object]) -> None:
    """Write several files whole or not at all: each writer(tmp) writes a temporary file in its
    target's folder; only when every one is written are they renamed into place. On any failure
    (a full disk, a file size limit) the temporary files are removed and the targets untouched."""
    import tempfile

    from ..files import umask

    done: list[tuple[Path, Path]] = []
    current = None
    try:
        for path, write in files.items():
            current = path
            folder = path.parent if str(path.parent) else Path(".")
            fd, name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=path.suffix, dir=folder)
            os.close(fd)
            done.append((Path(name), path))
            write(Path(name))
            os.chmod(name, 0o666 & ~umask())  # as an ordinary new file, not mkstemp's 0600
        for tmp, path in done:
            current = path
            os.replace(tmp, path)
        done = []
    except OSError as exc:
        cannot_write(current, exc)
    finally:
        for tmp, _ in done:
            tmp.unlink(missing_ok=True)
