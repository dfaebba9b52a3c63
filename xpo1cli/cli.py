"""Thin Typer commands: parse options, call query/stats, hand the frame to render.

Only typer and the standard library are imported at module level, so `--help`, `--version`
and shell completion never load pandas.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import functools
import os
import re
from pathlib import Path
from typing import Annotated

import typer
from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError
from typer.core import TyperGroup

from . import __version__

ROOT_OPTIONS = ("--data", "--version")
MAX_ECHO = 60  # characters of a user's input quoted back in a message


def _clip_quoted(message: str) -> str:
    """Cut every quoted piece of a message (what the user typed, usually) to MAX_ECHO characters."""
    parts = message.split("'")
    for i in range(1, len(parts) - 1, 2):
        if len(parts[i]) > MAX_ECHO:
            parts[i] = parts[i][:MAX_ECHO] + "…"
    return "'".join(parts)


def _repeated(command, ctx: Context, args: list[str]) -> str | None:
    """The first option of `command` that `args` give more than once, as the user spelled it
    (only --partner may repeat: a second --disease would silently replace the first)."""
    probe = Context(command, info_name=ctx.info_name, parent=ctx.parent, resilient_parsing=True)
    parser = command.make_parser(probe)
    count: dict[str, list[str]] = {}
    for opt in {*parser._long_opt.values(), *parser._short_opt.values()}:
        if opt.action not in ("store", "store_const") or opt.obj.name == "help":
            continue

        def process(value, state, opt=opt, original=opt.process):
            count.setdefault(opt.dest, []).append("/".join(opt._long_opts or opt._short_opts))
            original(value, state)

        opt.process = process
    try:
        parser.parse_args(args=list(args))
    except UsageError:
        return None  # the real parse reports it
    for spelled in count.values():
        if len(spelled) > 1:
            return "/".join(dict.fromkeys(spelled))
    return None


def _usage_message(exc: UsageError) -> str:
    """Click's message, said the way xpo1's own errors are: suggestions only when close."""
    if isinstance(exc, NoSuchOption):
        name = exc.option_name
        if name.split("=")[0] in ROOT_OPTIONS and exc.ctx is not None and exc.ctx.parent is not None:
            return (f"{name.split('=')[0]} is an option of xpo1 itself: put it before the command, "
                    f"e.g. xpo1 {name.split('=')[0]} ... {exc.ctx.info_name}")
        close = [p for p in (exc.possibilities or [])
                 if difflib.SequenceMatcher(None, name, p).ratio() >= 0.75]
        return exc.message + (f"; did you mean {' or '.join(sorted(close)[:3])}?" if close else "")
    return exc.format_message()


def _show_usage_error(exc: UsageError):
    message = _usage_message(exc)
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    path = exc.ctx.command_path if exc.ctx is not None else "xpo1"
    # click quotes some of what was typed and not the rest: cut every long word
    message = re.sub(r"\S{" + str(MAX_ECHO + 1) + ",}", lambda m: m.group(0)[:MAX_ECHO] + "…",
                     _clip_quoted(message).replace("\n", " "))
    typer.echo(f"xpo1: {message}", err=True)
    typer.echo(f"try '{path} --help'", err=True)
    raise typer.Exit(EXIT_USAGE)


class Group(TyperGroup):
    """The root command: click's usage errors look like xpo1's own (`xpo1: ...` and a hint), and
    an option given twice is refused instead of the last one silently winning."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            twice = _repeated(self, ctx, args)
            if twice:
                raise UsageError(f"{twice} given more than once; give it once", ctx)
            return super().parse_args(ctx, args)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            _show_usage_error(exc)

    def invoke(self, ctx: Context):
        sub = None
        try:
            args = [*ctx._protected_args, *ctx.args]
            if args:
                name, command, rest = self.resolve_command(ctx, args)
                if command is not None:
                    sub = Context(command, info_name=name, parent=ctx)
                    twice = _repeated(command, sub, rest)
                    if twice:
                        raise UsageError(f"{twice} given more than once; give it once (only "
                                         "--partner may repeat)", sub)
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            if exc.ctx is None:
                exc.ctx = sub
            _show_usage_error(exc)


app = typer.Typer(
    name="xpo1",
    cls=Group,
    help="Evidence summarizer for XPO1 inhibitors (selinexor, eltanexor) in blood cancers.\n\n"
    "Every figure carries its source reference. Output is a table on a terminal and CSV when "
    "piped; choose with --format. Each option is given once (only --partner repeats: all must "
    "match); a repeated one is refused.\n\n"
    "Shell completion: --show-completion prints the script to add to your shell yourself; "
    "--install-completion appends it to your shell's start-up file (e.g. ~/.bashrc) without asking.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

STATE: dict[str, str | None] = {"data": None, "failed": None}
EXIT_USAGE = 2
EXIT_DATA = 1


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """One clear line on stderr, then exit (2: usage, 1: data). Line breaks inside what a user
    typed are shown escaped, so the message stays one line."""
    message = _clip_quoted(message.replace("\r", "\\r").replace("\n", "\\n"))
    STATE["failed"] = "yes"  # a failed run leaves no partial output (see __main__)
    typer.echo(f"xpo1: {message}", err=True)
    raise typer.Exit(code)


def guarded(func):
    """Turn the library's lookup and data errors into one-line messages with exit codes."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .data import DataError
        from .query import UnknownName

        try:
            return func(*args, **kwargs)
        except UnknownName as exc:
            fail(str(exc).strip("'\""), EXIT_USAGE)
        except DataError as exc:
            fail(f"invalid dataset: {exc}", EXIT_DATA)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # a bug: one line for the user, the traceback on request
            if os.environ.get("XPO1_DEBUG"):
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (set XPO1_DEBUG=1 for the traceback)",
                 EXIT_DATA)

    return wrapper


def load():
    from .data import load as load_data

    return load_data(STATE["data"])


# --- completion (csv module only: completion must stay instant) -----------------------------------


def _data_dir() -> Path:
    from .data import bundled_root

    given = STATE["data"] or os.environ.get("XPO1_DATA")
    if given:
        p = Path(given)
        return p.parent if p.suffix == ".json" else p
    return bundled_root()


def _names(table: str, *columns: str, where=None) -> list[str]:
    """The values of some columns of a table of the dataset in use (`where(row)` keeps rows)."""
    try:
        with open(_data_dir() / f"{table}.csv", encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):  # completion never fails loudly
        return []
    out: list[str] = []
    for r in rows:
        if where is not None and not where(r):
            continue
        for c in columns:
            out += [v.strip() for v in (r.get(c) or "").split(";") if v.strip()]
    return list(dict.fromkeys(out))


def matching(names, incomplete: str) -> list[str]:
    """Names that start with what was typed, in any case. The shell keeps only completions that
    start with the typed text as typed, so a name matched in another case is offered as the
    typed prefix plus the rest in lower case ('sv' -> 'svd'), which every lookup accepts."""
    out = []
    for name in names:
        if name.startswith(incomplete):
            out.append(name)
        elif name.casefold().startswith(incomplete.casefold()):
            out.append(incomplete + name[len(incomplete):].lower())
    return list(dict.fromkeys(out))


def _completer(table: str, *columns: str, where=None):
    def complete(incomplete: str) -> list[str]:
        return matching(_names(table, *columns, where=where), incomplete)

    return complete


def _complete_study(incomplete: str) -> list[str]:
    """Study ids, trial ids and the review's reference numbers, for `show`."""
    names = [*_names("studies", "study"), *_names("trials", "trial"), *_names("studies", "ref")]
    return matching(names, incomplete)


def _is_agent(row: dict) -> bool:
    return "XPO1 inhibitor" in (row.get("drug_class") or "").split(";")


def _complete_format(incomplete: str) -> list[str]:
    from .render import FORMATS

    return [f for f in FORMATS if f.startswith(incomplete.lower())]


# --- shared options (declared once, used by every command) ----------------------------------------

Fmt = Annotated[str | None, typer.Option(
    "--format", "-f", help="table, plain, markdown, csv, tsv, excel, json or jsonl (any case) "
    "[default: table on a terminal, csv when piped]. tsv writes a tab or line break in a cell as "
    "\\t, \\n, \\r; excel is CSV with a BOM and CRLF, and a ' before text cells starting "
    "with = + - @ so a spreadsheet does not run them as formulas",
    autocompletion=_complete_format)]
Disease = Annotated[str | None, typer.Option(
    "--disease", "-d", help="MM, WM, AML, MDS, MF, AL, NHL (includes DLBCL, MCL, TCL, NKTCL), DLBCL, MCL, "
    "TCL, NKTCL, or a full name",
    autocompletion=_completer("diseases", "disease"))]
Agent = Annotated[str | None, typer.Option(
    "--agent", "-a", help="selinexor, eltanexor (or KPT-330, KPT-8602)",
    autocompletion=_completer("drugs", "drug", where=_is_agent))]
Partner = Annotated[list[str] | None, typer.Option(
    "--partner", "-p", help="combination drug or drug class (repeatable; all must be present), "
    "e.g. bortezomib, 'proteasome inhibitor', IMiD", autocompletion=_completer("drugs", "drug",
                                                                              "drug_class"))]
Regimen = Annotated[str | None, typer.Option(
    "--regimen", "-r", help="regimen code or alias: SVd, S-Vd, XVd, 'selinexor+bortezomib+dex'",
    autocompletion=_completer("regimens", "regimen"))]
Phase = Annotated[str | None, typer.Option("--phase", help="1 (includes 1b), 1b, 2, 2b, 3")]
Setting = Annotated[str | None, typer.Option(
    "--setting", help="relapsed/refractory (rr), newly diagnosed (nd), mixed",
    autocompletion=lambda incomplete: matching(("rr", "nd", "mixed"), incomplete))]
Kind = Annotated[str | None, typer.Option(
    "--type", help="clinical, preclinical, case, review (systematic reviews) or realworld (real-world "
    "series)", autocompletion=lambda incomplete: matching(("clinical", "preclinical", "case", "review",
                                                           "realworld"), incomplete))]
MinN = Annotated[int | None, typer.Option("--min-n", min=0, help="at least this many patients")]
Source = Annotated[str | None, typer.Option(
    "--source", help="review (the 2020 review), later (published after it) or all [default: all]",
    autocompletion=lambda incomplete: matching(("review", "later", "all"), incomplete))]
Design = Annotated[str | None, typer.Option(
    "--design", help="randomized phase 3, randomized phase 2, single-arm, phase 1, case report, preclinical")]
Randomized = Annotated[bool | None, typer.Option(
    "--randomized/--non-randomized", help="only randomized (or only non-randomized) studies")]
Age = Annotated[str | None, typer.Option(
    "--age", help="adult, paediatric (children), mixed, or non-paediatric (leaves out paediatric and "
    "mixed populations, keeps studies whose ages are not stated)",
    autocompletion=lambda incomplete: matching(("adult", "paediatric", "mixed", "non-paediatric"), incomplete))]


def filters(disease=None, agent=None, partner=None, regimen=None, phase=None, setting=None,
            kind=None, min_n=None, source=None, design=None, randomized=None, age=None):
    from .query import Filters

    for name, value in (("--disease", disease), ("--agent", agent), ("--regimen", regimen),
                        ("--phase", phase), ("--setting", setting), ("--type", kind),
                        ("--source", source), ("--design", design), ("--age", age),
                        *(("--partner", p) for p in (partner or []))):
        if value is not None and not value.strip():
            fail(f"{name} needs a value")
        if value is not None and len(value) > 200:
            fail(f"{name} value is too long ({len(value)} characters)")
    return Filters(disease=disease, agent=agent, partner=tuple(partner or ()), regimen=regimen,
                   phase=phase, setting=setting, evidence=kind, min_n=min_n, source=source,
                   design=design, randomized=randomized, age=age)


def resolve_format(fmt: str | None) -> str:
    """The format asked for, or the default for this stdout; unknown -> usage error."""
    from .render import FORMATS, default_format

    if fmt is None:
        return default_format()
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        fail(f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")
    return fmt


def output(frame, fmt, **kwargs) -> None:
    from .render import render

    fmt = resolve_format(fmt)
    if len(frame) == 0:
        typer.echo("xpo1: no matching rows", err=True)
    render(frame, fmt, **kwargs)


# --- root ----------------------------------------------------------------------------------------

GLOBAL_OPTIONS = ("--data",)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options typed after the command name in front of it, so `xpo1 list --data DIR`
    means `xpo1 --data DIR list`, as gh and kubectl allow for their global flags."""
    out, moved, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out += argv[i:]
            break
        if arg in GLOBAL_OPTIONS and i + 1 < len(argv):
            moved += argv[i:i + 2]
            i += 2
            continue
        if any(arg.startswith(f"{o}=") for o in GLOBAL_OPTIONS):
            moved.append(arg)
        else:
            out.append(arg)
        i += 1
    return [*moved, *out]



def _version(value: bool) -> None:
    if value:
        typer.echo(f"xpo1 {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    data: Annotated[str | None, typer.Option(
        "--data", envvar="XPO1_DATA", metavar="DIR_OR_DATAPACKAGE",
        help="use another dataset with the same schema (a folder or its datapackage.json)")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Evidence summarizer for XPO1 inhibitors in haematological malignancies."""
    if data is not None and not data.strip():
        fail("--data needs a dataset folder or its datapackage.json, not an empty value")
    if data is None and os.environ.get("XPO1_DATA", "unset").strip() == "":
        fail("XPO1_DATA is set but empty; name a dataset folder, or unset it to use the bundled data")
    STATE["data"] = data


# --- list ------------------------------------------------------------------------------------------


SETTING_SHORT = {"relapsed/refractory": "R/R", "newly diagnosed": "ND"}


def _list_view(frame):
    import pandas as pd

    from .render import fraction

    rows = []
    for r in frame.itertuples():
        depth = (f"{r.depth} {fraction(r.depth_count, r.depth_denominator, r.depth_percent, r.depth_count_basis)}"
                 if isinstance(r.depth, str) else None)
        rows.append({
            "ref": r.ref, "study": r.study, "disease": r.disease, "regimen": r.regimen,
            "phase": r.phase, "setting": SETTING_SHORT.get(r.setting, r.setting),
            "cohort": r.cohort, "n": r.n,
            "ORR": fraction(r.orr_count, r.orr_denominator, r.orr_percent, r.orr_count_basis),
            "depth": depth, "PFS mo": r.median_pfs, "OS mo": r.median_os,
            "⚠": "audit" if isinstance(r.audit, str) else "",
        })
    return pd.DataFrame(rows, columns=["ref", "study", "disease", "regimen", "phase", "setting",
                                       "cohort", "n", "ORR", "depth", "PFS mo", "OS mo", "⚠"])


@app.command("list")
@guarded
def list_studies(
    disease: Disease = None, agent: Agent = None, partner: Partner = None, regimen: Regimen = None,
    phase: Phase = None, setting: Setting = None, kind: Kind = None, min_n: MinN = None,
    source: Source = None, design: Design = None, randomized: Randomized = None, age: Age = None,
    cohorts: Annotated[bool, typer.Option("--cohorts", help="one row per cohort/subgroup")] = False,
    sort: Annotated[str, typer.Option("--sort", help="ref, study, disease, regimen, phase, n, orr, "
                                                     "pfs, os or evidence")] = "ref",
    fmt: Fmt = None,
) -> None:
    """One row per study (its headline population): n, ORR, depth of response, median PFS/OS.

    Example: xpo1 list --disease MM --partner "proteasome inhibitor" --sort orr
    """
    from .query import filter_arms, filter_studies
    from .views import headline, sort_rows

    ds = load()
    f = filters(disease, agent, partner, regimen, phase, setting, kind, min_n, source, design, randomized,
                age=age)
    studies = filter_studies(ds, f)
    frame = sort_rows(headline(ds, studies, all_cohorts=cohorts, matched=filter_arms(ds, f, studies)),
                      sort.strip().lower())
    from .render import DERIVED_NOTE

    notes = ["ORR and depth show count/denominator (percentage as printed, else computed); "
             "'xpo1 show REF' gives every figure with its source.", DERIVED_NOTE,
             "⚠ audit: a printed figure disagrees with its counts; 'xpo1 audit' says which."]
    output(frame, fmt, title="XPO1-inhibitor studies", notes=notes, view=_list_view)


# --- show ------------------------------------------------------------------------------------------


@app.command("show")
@guarded
def show(
    study: Annotated[str, typer.Argument(help="the review's reference number (e.g. 16) or a study id",
                                         autocompletion=_complete_study)],
    fmt: Fmt = None,
) -> None:
    """Everything about one study: population, regimen and dose, cohorts, every outcome with its
    source, safety findings.

    Example: xpo1 show 19      (JSON: one object per study; CSV: the outcome rows)
    """
    from .query import find_studies, study_record
    from .views import reports_side_by_side

    fmt = resolve_format(fmt)
    ds = load()
    found = find_studies(ds, study)
    recs = [study_record(ds, s) for s in found]
    side = reports_side_by_side(ds, found) if len(found) > 1 else None
    if fmt in ("json", "jsonl", "csv", "tsv", "excel"):
        from .render import records

        if fmt in ("csv", "tsv", "excel"):
            import pandas as pd

            output(pd.concat([r["outcomes"] for r in recs], ignore_index=True), fmt)
            return
        objs = [{**r["study"], **{k: records(r[k]) for k in ("cohorts", "outcomes", "comparisons",
                                                              "adverse_events", "syntheses")}}
                for r in recs]
        import json

        if fmt == "json":
            doc = objs[0] if len(objs) == 1 else {"reports": objs,
                                                   "side_by_side": records(side)}
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        else:
            for o in objs:
                typer.echo(json.dumps(o, ensure_ascii=False))
        return
    if side is not None:
        from .render import DERIVED_NOTE

        output(side, fmt, title=f"{study}: {len(found)} reports side by side",
               notes=["≠ marks a figure that differs between reports: later reports update earlier "
                      "ones; each keeps its own population and source.", DERIVED_NOTE])
    for r in recs:
        _show_human(r, fmt)


def _show_human(rec: dict, fmt) -> None:
    import pandas as pd

    from .render import cell

    s = rec["study"]
    facts = pd.DataFrame(
        [(k, cell(v)) for k, v in s.items() if cell(v) != "–"], columns=["field", "value"])
    ref = f"ref {cell(s['ref'])}" if s.get("ref") is not None else f"source {s['source']}"
    output(facts, fmt, title=f"{s['study']} ({ref})")
    output(rec["cohorts"][["cohort", "label", "parent", "arm", "regimen", "n", "headline", "source"]],
           fmt, title="Cohorts and arms")
    output(_outcome_view(rec["outcomes"]), fmt, title="Outcomes",
           notes=["* count derived here (from the categories the source lists, or the one whole "
                  "count its percentage allows); 'computed' is count/denominator. Percentages are "
                  "as printed. --format json gives every field."])
    if len(rec["comparisons"]):
        from .render import as_printed

        comp = rec["comparisons"].copy()
        for col in ("estimate", "ci_low", "ci_high"):
            comp[col] = [as_printed(v, d) for v, d in zip(comp[col], comp["decimals"], strict=True)]
        comp = comp.rename(columns={"p_text": "p"})
        output(comp[["cohort_a", "cohort_b", "measure", "timepoint", "statistic", "estimate", "ci_low",
                     "ci_high", "p", "test", "source", "note"]], fmt, title="Comparisons between arms",
               notes=["As reported by the source: estimates, confidence limits and p-values are "
                      "printed as given, with the source's decimals; nothing here is recomputed."])
    if len(rec["syntheses"]):
        output(rec["syntheses"][["measure", "population", "value", "unit", "low", "high", "out_of",
                                 "bracket", "source"]], fmt,
               title="Published pooled figures (a synthesis of other studies; never pooled again)")
    if len(rec["adverse_events"]):
        output(rec["adverse_events"][["cohort", "kind", "term", "grade", "count", "n",
                                      "percent_reported", "statement", "source"]], fmt,
               title="Safety and dose findings")


def _outcome_view(frame):
    """Outcome rows for reading: one value column in the clinic's notation."""
    import pandas as pd

    from .render import _plain, cell

    def value(r):
        k, den, pct = _plain(r.count_used), _plain(r.denominator), _plain(r.percent_reported)
        med, wk = _plain(r.median_months), _plain(r.median_weeks)
        lo, hi = _plain(r.range_low), _plain(r.range_high)
        if med is not None or wk is not None or lo is not None or hi is not None:
            unit = "wk" if wk is not None else "mo"
            text = f"median {cell(med if med is not None else wk)} {unit}" if (med or wk) is not None else ""
            if lo is not None or hi is not None:
                text += f" (range {cell(lo) if lo is not None else '?'}–{cell(hi)} {unit})"
            return text.strip()
        if k is None and pct is None:
            return "stated in words only"
        text = ""
        if k is not None:
            text = f"{k}{'*' if r.count_basis not in (None, 'reported') else ''}"
            text += f"/{den}" if den is not None else ""
        if pct is not None:
            text += f" ({cell(pct)}%)" if text else f"{cell(pct)}%"
        calc = _plain(r.percent_calc)
        if calc is not None and (pct is None or abs(calc - pct) > 0.05):
            text += f" [computed {cell(calc)}%]"
        return text

    def ci(r):
        lo, hi = _plain(r.ci_low), _plain(r.ci_high)
        if lo is None and hi is None:
            return "–"
        return f"{cell(lo) if lo is not None else 'NE'}–{cell(hi) if hi is not None else 'NE'}"

    return pd.DataFrame({
        "cohort": frame["cohort"], "measure": frame["measure"],
        "when": [cell(t) for t in frame["timepoint"]],
        "value": [value(r) for r in frame.itertuples()],
        "95% CI (reported)": [ci(r) for r in frame.itertuples()],
        "source": frame["source"], "note": [cell(n) for n in frame["note"]]})


# --- compare ---------------------------------------------------------------------------------------

CROSS_TRIAL = ("Cross-trial comparison: these are separate, non-randomized studies whose populations "
               "differ; do not read differences as treatment effects.")


@app.command("compare")
@guarded
def compare(
    regimens: Annotated[list[str], typer.Argument(
        help="two or more regimen codes or aliases (SVd, S-Vd, 'selinexor+pomalidomide+dex')",
        autocompletion=_completer("regimens", "regimen"))],
    disease: Disease = None,
    include_preclinical: Annotated[bool, typer.Option(
        "--include-preclinical", help="also list preclinical reports (they carry no figures)")] = False,
    fmt: Fmt = None,
) -> None:
    """Regimens side by side, one column per study (never blended): n, ORR, depth, PFS/OS, the
    best-documented subgroup and the source.

    Example: xpo1 compare SVd SPd
    """
    from .query import Resolver
    from .views import compare_frame, randomized_pairs

    if len(regimens) < 2:
        fail("compare needs at least two regimens, e.g. xpo1 compare SVd SPd")
    filters(disease=disease)  # the same checks of what was typed as every listing
    ds = load()
    codes = [Resolver(ds).regimen(r) for r in regimens]
    if len(set(codes)) < len(codes):
        fail(f"the same regimen was named twice ({', '.join(codes)})")
    frame = compare_frame(ds, codes, disease=disease, include_preclinical=include_preclinical)
    within = randomized_pairs(ds, frame)
    paired = {(s, c) for s, c, a in zip(frame["study"], frame["cohort"], frame["arm"], strict=True)
              if isinstance(a, str) and within}
    others = [r for r in frame.itertuples() if (r.study, r.cohort) not in paired]
    warnings = [*within]
    if others and len({r.compared for r in frame.itertuples()}) > 1:
        warnings.append(CROSS_TRIAL if not within else
                        "Every other column is a cross-trial comparison: separate studies whose "
                        "populations differ; do not read those differences as treatment effects.")
    frame["comparison"] = ["randomized, within one trial" if (r.study, r.cohort) in paired
                           else "cross-trial, not randomized" for r in frame.itertuples()]
    from .render import DERIVED_NOTE

    output(frame, fmt, title=f"Compare {' vs '.join(codes)}", warnings=warnings, view=_compare_view,
           notes=[DERIVED_NOTE, "Between arms: the trial's statistics as reported by its source; nothing "
                  "there is recomputed."])


def _compare_view(frame):
    import pandas as pd

    from .render import MISSING, _plain, cell, fraction

    def column_name(r):
        where = f"ref {cell(r.ref)}" if _plain(r.ref) is not None else (r.trial or r.study)
        arm = f" ({r.cohort_label})" if isinstance(r.arm, str) else ""
        return f"{r.compared} · {where}{arm}"

    def fmt_row(r):
        return {
            "study": f"{r.study} [{r.source}]", "disease": r.disease,
            "treatment": f"{r.regimen}: " + (f"{r.agent}" if isinstance(r.agent, str) else "no XPO1 inhibitor")
            + (f" ({r.arm} arm)" if isinstance(r.arm, str) else ""),
            "design / phase": f"{r.design}" + (f", phase {r.phase}" if isinstance(r.phase, str)
                                               and "phase" not in r.design else ""),
            "setting": cell(r.setting), "population": f"{r.cohort_label} (n={cell(r.n)})",
            "ORR": fraction(r.orr_count, r.orr_denominator, r.orr_percent, r.orr_count_basis),
            "depth": (f"{r.depth} {fraction(r.depth_count, r.depth_denominator, r.depth_percent, r.depth_count_basis)}"
                      if isinstance(r.depth, str) else MISSING),
            "median PFS, mo": cell(r.median_pfs), "median OS, mo": cell(r.median_os),
            "other cohorts": cell(r.other_cohorts), "between arms, as reported": cell(r.between_arms),
            "comparison": r.comparison,
        }

    rows = [fmt_row(r) for r in frame.itertuples()]
    if not rows:
        return pd.DataFrame(columns=["metric"])
    wide = pd.DataFrame(rows).T
    names = [column_name(r) for r in frame.itertuples()]
    wide.columns = [f"{n} [{r.study}]" if names.count(n) > 1 else n
                    for n, r in zip(names, frame.itertuples(), strict=True)]
    wide.insert(0, "metric", wide.index)
    return wide.reset_index(drop=True)


# --- catalogues ------------------------------------------------------------------------------------


@app.command("regimens")
@guarded
def regimens_cmd(fmt: Fmt = None) -> None:
    """Regimens the data knows: code, drugs, partner classes, aliases you can type, study count.

    Example: xpo1 regimens --format markdown
    """
    from .query import regimen_catalogue

    output(regimen_catalogue(load()), fmt, title="Regimens")


@app.command("diseases")
@guarded
def diseases_cmd(fmt: Fmt = None) -> None:
    """Diseases the data knows, with their hierarchy and study counts.

    Example: xpo1 diseases
    """
    from .query import disease_catalogue

    output(disease_catalogue(load()), fmt, title="Diseases",
           notes=["A broader disease includes its narrower ones: --disease NHL lists DLBCL and MCL."])


@app.command("agents")
@guarded
def agents_cmd(fmt: Fmt = None) -> None:
    """XPO1 inhibitors (SINE compounds) the data knows, with study counts.

    Example: xpo1 agents --format json
    """
    from .query import agent_catalogue

    output(agent_catalogue(load()), fmt, title="XPO1 inhibitors")


# --- export, audit, validate ----------------------------------------------------------------------

EXPORTABLE = ("studies", "cohorts", "outcomes", "comparisons", "adverse_events", "regimens", "trials",
              "drugs", "diseases",
              "approvals", "sources", "syntheses", "conflicts")


@app.command("export")
@guarded
def export(
    table: Annotated[str, typer.Argument(help=f"one of: {', '.join(EXPORTABLE)}",
                                         autocompletion=lambda incomplete: matching(EXPORTABLE, incomplete))],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, tsv, excel, json or jsonl",
                                     autocompletion=_complete_format)] = "csv",
) -> None:
    """A whole table for other tools, with the derived columns (ref, partners, n, derived counts).

    Example: xpo1 export outcomes --format json | jq '.[] | select(.measure=="ORR")'
    """
    from .query import export_table

    table, fmt = table.strip().lower(), fmt.strip().lower()
    if table not in EXPORTABLE:
        from .query import suggest

        fail(f"unknown table '{table}'; {suggest(table, EXPORTABLE)}")
    fmt = fmt.strip().lower()
    if fmt not in ("csv", "tsv", "excel", "json", "jsonl"):
        fail(f"export writes csv, tsv, excel, json or jsonl, not '{fmt}'")
    output(export_table(load(), table), fmt)


@app.command("schema")
@guarded
def schema_cmd(
    table: Annotated[str | None, typer.Argument(help="one table; all when omitted")] = None,
    fmt: Fmt = None,
) -> None:
    """The data dictionary of the dataset in use: every column with its type, keys, allowed values
    and meaning.

    Example: xpo1 schema outcomes --format markdown
    """
    from .query import schema_table

    output(schema_table(load(), table), fmt, title="Data dictionary")


@app.command("package")
@guarded
def package_cmd(
    out_dir: Annotated[Path, typer.Argument(help="a new or empty folder to write the data package to")],
) -> None:
    """Write the dataset in use as a data package (its CSV tables and datapackage.json) to start
    your own extraction from, or to read back with --data.

    Example: xpo1 package ./my-extraction && xpo1 --data ./my-extraction validate
    """
    import shutil
    import tempfile

    from .data import write_package

    try:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            fail(f"{out_dir} exists and is not an empty folder; nothing written")
    except OSError as exc:
        _cannot_write(out_dir, exc)
    ds = load()
    # written into a temporary folder beside the target and renamed at the end: a full disk or
    # a refused write leaves nothing behind, so a retry is not refused
    missing = [p for p in [out_dir.absolute(), *out_dir.absolute().parents] if not p.exists()]
    tmp = None
    try:
        out_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:40]}.", dir=out_dir.absolute().parent))
        written = write_package(ds, tmp)
        os.chmod(tmp, 0o777 & ~_umask())  # as an ordinary new folder, not mkdtemp's 0700
        if out_dir.exists():
            out_dir.rmdir()  # the empty folder the user named
        os.rename(tmp, out_dir)
        tmp = None
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for p in missing[1:]:  # folders made on the way, innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
        _cannot_write(out_dir, exc)
    typer.echo(f"wrote {len(written)} files to {out_dir}", err=True)


@app.command("audit")
@guarded
def audit_cmd(
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when anything is found")] = False,
    fmt: Fmt = None,
) -> None:
    """Recompute every percentage from its counts and check sums and populations; list each
    disagreement beyond rounding with its ref and measure. Nothing is corrected.

    Example: xpo1 audit --format json
    """
    from .audit import audit, report_differences

    ds = load()
    findings = audit(ds)
    updates = report_differences(ds)
    fmt = resolve_format(fmt)
    if fmt in ("csv", "tsv", "excel", "json", "jsonl"):
        import pandas as pd

        stated = findings["check"].str.startswith("stated conflict")
        both = pd.concat([findings.assign(section=stated.map({True: "stated conflict",
                                                              False: "within a source"})),
                          updates.assign(section="between reports of one trial")], ignore_index=True)
        output(both[["section", *[c for c in both.columns if c != "section"]]], fmt)
    else:
        stated = findings["check"].str.startswith("stated conflict")
        within, conflicts = findings[~stated], findings[stated]
        output(within, fmt, title=f"Within a source: {len(within)} finding(s)",
               notes=["Rounding as printed is not a finding (25/40 printed as 63% is consistent)."])
        if len(conflicts):
            output(conflicts, fmt, title=f"Stated conflicts: {len(conflicts)}",
                   notes=["Readings that disagree between sources or within one, which no count can "
                          "show (a dose, a ratio, a population): both are kept, neither is chosen."])
        output(updates, fmt, title=f"Between reports of one trial: {len(updates)} difference(s)",
               notes=["Later reports update earlier ones (more patients, longer follow-up): read them "
                      "side by side; these are not errors."])
    if strict and len(findings):
        raise typer.Exit(1)


@app.command("validate")
@guarded
def validate_cmd(
    path: Annotated[str | None, typer.Argument(
        help="a dataset folder or its datapackage.json [default: the data in use]")] = None,
    fmt: Fmt = None,
) -> None:
    """Check a dataset against the package schema and report every problem at once (file, row,
    column, reason); exit 1 when anything is wrong.

    Example: xpo1 validate ./my-extraction/
    """
    import pandas as pd

    from .data import validate

    fmt = resolve_format(fmt)
    problems = validate(path if path is not None else STATE["data"])
    frame = pd.DataFrame([p.as_dict() for p in problems], columns=["file", "row", "column", "reason"])
    frame["row"] = frame["row"].astype("Int64")
    if problems:
        output(frame, fmt, title=f"{len(problems)} problem(s)")
        raise typer.Exit(1)
    typer.echo("valid: every table matches the schema", err=True)


# --- the three clinical views ---------------------------------------------------------------------

CiMethod = Annotated[str, typer.Option("--ci", help="exact (Clopper–Pearson) or wilson")]
Level = Annotated[float, typer.Option("--level", help="confidence level, e.g. 0.95 or 0.90")]


def _interval_options(ci: str, level: float) -> str:
    """--ci in any case; a --level given as a percentage is refused with the fraction it meant."""
    from .stats import CI_METHODS, check_level

    ci = ci.strip().lower()
    if ci not in CI_METHODS:
        fail(f"unknown interval method '{ci}'; known: {', '.join(CI_METHODS)}")
    try:
        check_level(level)
    except ValueError as exc:
        hint = f"; did you mean {level / 100:g}?" if 50 <= level < 100 else ""
        fail(f"{exc}{hint}")
    return ci


CUMULATIVE_MARK = "†"


def _rate(n, pct, lo=None, hi=None, basis=None) -> str:
    from .render import DERIVED_MARK, MISSING, _plain, cell, derived

    n, pct, lo, hi, basis = (_plain(x) for x in (n, pct, lo, hi, basis))
    if n is None and pct is None:
        return "NR"
    if n is None:
        mark = CUMULATIVE_MARK if isinstance(basis, str) and basis.startswith("cumulative") else ""
        text = f"{cell(pct)}%{mark}" if pct is not None else MISSING
    else:
        text = f"{cell(n)}{DERIVED_MARK if derived(basis) else ''}"
        if pct is not None:
            text += f" ({cell(pct)}%)"
    if lo is not None and hi is not None:
        text += f" [{cell(lo)}–{cell(hi)}]"
    return text


def _response_view(frame):
    import pandas as pd

    from .views import ALL_RESPONSE, CATEGORIES, _key

    shown = []
    for m in ALL_RESPONSE:
        k = _key(m)
        if f"{k}_n" in frame and (frame[f"{k}_n"].notna() | frame[f"{k}_pct"].notna()).any():
            shown.append((m, k))
    out = pd.DataFrame({"ref": frame["ref"], "study": frame["study"], "cohort": frame["cohort"],
                        "n eval": frame["denominator"],
                        "⚠": ["audit" if isinstance(a, str) else "" for a in frame["audit"]]})
    for m, k in shown:
        if m in CATEGORIES:
            out[m] = [_rate(a, b) for a, b in zip(frame[f"{k}_n"], frame[f"{k}_pct"], strict=True)]
        else:
            out[m.replace("_", "/")] = [
                _rate(*cells) for cells in zip(frame[f"{k}_n"], frame[f"{k}_pct"], frame[f"{k}_ci_low"],
                                               frame[f"{k}_ci_high"], frame[f"{k}_basis"], strict=True)]
    return out


@app.command("response")
@guarded
def response_cmd(
    disease: Disease = None, agent: Agent = None, partner: Partner = None, regimen: Regimen = None,
    phase: Phase = None, setting: Setting = None, kind: Kind = None, min_n: MinN = None,
    source: Source = None, design: Design = None, randomized: Randomized = None, age: Age = None,
    measure: Annotated[str | None, typer.Option(
        "--measure", "-m", help="narrow to one measure: sCR CR CRi VGPR PR MR SD PD ORR CR_CRi CBR "
        "DCR ≥VGPR (or ge_vgpr) ≥CR (ge_cr)")] = None,
    ci: CiMethod = "exact", level: Level = 0.95, fmt: Fmt = None,
) -> None:
    """Response by study cohort: every category the source reports as count and %, ORR and the
    depth summaries of the disease with confidence intervals. NR = not reported (never zero).

    Example: xpo1 response --disease MM --partner bortezomib
    """
    from .query import filter_arms, filter_studies
    from .views import response_table

    ci = _interval_options(ci, level)
    ds = load()
    f = filters(disease, agent, partner, regimen, phase, setting, kind, min_n, source, design, randomized,
                age=age)
    studies = filter_studies(ds, f)
    if measure is not None and re.fullmatch(r"(?i)\s*(ge_?|>=|≥)(cr|vgpr)\s*", measure):
        measure = "≥" + re.sub(r"(?i)^\s*(ge_?|>=|≥)", "", measure).strip().upper()
    frame = response_table(ds, studies, measure=measure, method=ci, level=level,
                           matched=filter_arms(ds, f, studies))
    from .render import DERIVED_NOTE

    name = "Clopper–Pearson exact" if ci == "exact" else "Wilson"
    output(frame, fmt, title="Response", view=_response_view, notes=[
        f"[lo–hi]: {level:.0%} {name} interval, computed here (the review gives none). "
        "Percentages as printed. NR: not reported.", DERIVED_NOTE,
        f"{CUMULATIVE_MARK} the source prints MR, PR and VGPR rates that add up to more than 100%: "
        "read here as cumulative ('or better') rates, the summary each is (the source does not say "
        "so; see 'xpo1 audit').",
        "⚠ audit: the printed figures of this cohort disagree with each other; see 'xpo1 audit'."])


@app.command("survival")
@guarded
def survival_cmd(
    disease: Disease = None, agent: Agent = None, partner: Partner = None, regimen: Regimen = None,
    phase: Phase = None, setting: Setting = None, kind: Kind = None, min_n: MinN = None,
    source: Source = None, design: Design = None, randomized: Randomized = None, age: Age = None,
    measure: Annotated[str | None, typer.Option("--measure", "-m", help="PFS, OS, DOR or TTR")] = None,
    sort: Annotated[str, typer.Option("--sort", help="ref or median")] = "ref",
    chart: Annotated[bool, typer.Option("--chart", help="draw the medians as bars")] = False,
    fmt: Fmt = None,
) -> None:
    """Median PFS, OS, duration of and time to response by study cohort, with ranges where
    reported, including responder vs non-responder splits.

    Example: xpo1 survival --disease AML --measure OS --chart
    """
    from .query import filter_arms, filter_studies
    from .views import survival_table

    sort = sort.strip().lower()
    if sort not in ("ref", "median"):
        fail(f"unknown sort key '{sort}'; known: ref, median")
    ds = load()
    f = filters(disease, agent, partner, regimen, phase, setting, kind, min_n, source, design, randomized,
                age=age)
    studies = filter_studies(ds, f)
    frame = survival_table(ds, studies, measure=measure, matched=filter_arms(ds, f, studies))
    if sort == "median":  # months first, then weeks: a median is compared only within its unit
        frame = frame.sort_values(["unit", "median", "ref", "study", "cohort"],
                                  ascending=[True, False, True, True, True], kind="stable",
                                  na_position="last").reset_index(drop=True)
    if chart:
        from .render import bars, cell

        if fmt not in (None, "table", "plain"):
            fail("--chart draws text bars; use it without --format (or with table/plain)")
        if len(frame) == 0:
            typer.echo("xpo1: no matching rows", err=True)
            return
        months = frame[frame["unit"] == "months"]
        labels = months.assign(label=[
            f"{'ref ' + cell(r.ref) if cell(r.ref) != '–' else r.source} {r.regimen} · {r.cohort_label}"
            for r in months.itertuples()])
        bars(labels.sort_values(["measure", "ref", "study"], kind="stable") if sort == "ref"
             else labels.sort_values(["measure", "median"], ascending=[True, False], kind="stable"),
             "label", "median", group="measure")
        typer.echo("Medians in months as reported; a range-only figure (e.g. the longest response) "
                   "shows as not reported. Bars are not comparable across different populations.")
        for r in frame[frame["unit"] != "months"].itertuples():
            typer.echo(f"Not drawn (in {r.unit}, not months): {r.study} {r.cohort_label} {r.measure} "
                       f"median {cell(r.median)} {r.unit}.")
        return
    output(frame, fmt, title="Survival and durations", view=_survival_view,
           notes=["Each median, range and CI is in the unit shown beside it, as the source gives it."])


def _survival_view(frame):
    import pandas as pd

    from .render import _plain, cell

    def rng(lo, hi):
        lo, hi = _plain(lo), _plain(hi)
        if lo is None and hi is None:
            return "–"
        return f"{cell(lo) if lo is not None else '?'}–{cell(hi)}"

    return pd.DataFrame({
        "ref": frame["ref"], "study": frame["study"], "cohort": frame["cohort_label"],
        "regimen": frame["regimen"], "n": frame["n"], "measure": frame["measure"],
        "median": frame["median"], "unit": frame["unit"],
        "range": [rng(a, b) for a, b in zip(frame["range_low"], frame["range_high"], strict=True)],
        "note": frame["note"]})


@app.command("toxicity")
@guarded
def toxicity_cmd(
    disease: Disease = None, agent: Agent = None, partner: Partner = None, regimen: Regimen = None,
    phase: Phase = None, setting: Setting = None, kind: Kind = None, min_n: MinN = None,
    source: Source = None, design: Design = None, randomized: Randomized = None, age: Age = None,
    category: Annotated[str | None, typer.Option(
        "--category", "-c", help="gastrointestinal, haematological, neurological, infection, "
        "hepatic, metabolic")] = None,
    row_kind: Annotated[str | None, typer.Option(
        "--kind", help="adverse_event, mitigation, dose_finding, cns_penetration")] = None,
    arms: Annotated[bool, typer.Option(
        "--arms", help="only the arm-against-arm table of randomized trials, with risk differences")] = False,
    fmt: Fmt = None,
) -> None:
    """The adverse-event profile by category, its mitigations, dose findings and the selinexor vs
    eltanexor CNS contrast. Incidences are shown only where the source gives numbers.

    Example: xpo1 toxicity --category gastrointestinal
    """
    from .query import Resolver, filter_arms, filter_studies
    from .views import toxicity_table

    ds = load()
    f = filters(disease, None, partner, regimen, phase, setting, kind, min_n, source, design, randomized,
                age=age)
    studies = filter_studies(ds, f)
    matched = filter_arms(ds, f, studies)
    filters(agent=agent)  # an empty or over-long --agent is refused as in every listing
    agent_name = Resolver(ds).agent(agent) if agent else None
    fmt = resolve_format(fmt)
    from .views import toxicity_arms

    human = fmt in ("table", "plain", "markdown")
    if arms and row_kind is not None and not "adverse_event".startswith(
            row_kind.strip().casefold().replace("-", "_").replace(" ", "_") or "?"):
        fail(f"--arms compares adverse events between arms; --kind {row_kind} has no such table")
    ae_kind = row_kind is None or "adverse_event".startswith(
        row_kind.strip().casefold().replace("-", "_").replace(" ", "_") or "?")
    paired = toxicity_arms(ds, studies) if arms or (human and ae_kind) else None
    if paired is not None and (category is not None or agent_name is not None):
        # the arm table holds adverse events only: keep the events that the filters keep
        wanted = toxicity_table(ds, studies, agent=agent_name, category=category,
                                kind="adverse_event", source=source)
        keep = set(zip(wanted["study"], wanted["term"], strict=True))
        paired = paired[[(s, t) in keep for s, t in zip(paired["study"], paired["term"], strict=True)]]
    arm_notes = ["Risk difference: experimental minus control, percentage points, with a 95% Newcombe "
                 "interval (statsmodels). n_basis says where an arm's n comes from when the source "
                 "gives no denominator for the event."]
    if arms:
        output(paired, fmt, title="Adverse events, arm against arm", notes=arm_notes, view=_arms_view)
        return
    frame = toxicity_table(ds, studies, agent=agent_name, category=category, kind=row_kind, source=source,
                           matched=matched)
    output(frame, fmt, title="Toxicity and safety", view=_toxicity_view, notes=[
        "scope: class = all XPO1 inhibitors; agent = one drug; study = one study's finding; "
        "label = the prescribing information's pooled populations. 'not quantified' means the "
        "source names the event without a rate."])
    if paired is not None and len(paired):
        output(paired, fmt, title="Adverse events, arm against arm", notes=arm_notes, view=_arms_view)


def _arms_view(frame):
    import pandas as pd

    from .render import _plain, cell

    def arm(k, n, p):
        return f"{cell(k)}/{cell(n)} ({cell(p)}%)" if _plain(p) is not None else f"{cell(k)}/{cell(n)}"

    return pd.DataFrame({
        "trial": frame["trial"], "event": frame["term"], "grade": frame["grade"],
        "experimental arm": [f"{lab}: {arm(a, b, c)}" for lab, a, b, c in zip(
            frame["experimental"], frame["exp_count"], frame["exp_n"], frame["exp_pct"], strict=True)],
        "control arm": [f"{lab}: {arm(a, b, c)}" for lab, a, b, c in zip(
            frame["control"], frame["ctl_count"], frame["ctl_n"], frame["ctl_pct"], strict=True)],
        "difference, points [95% CI]": [f"{cell(d)} [{cell(lo)} to {cell(hi)}]" for d, lo, hi in zip(
            frame["risk_difference"], frame["rd_ci_low"], frame["rd_ci_high"], strict=True)],
        "n": frame["n_basis"], "source": frame["source"]})


def _toxicity_view(frame):
    import pandas as pd

    from .render import _plain, cell

    def incidence(r):
        c, n, p = _plain(r.count), _plain(r.n), _plain(r.percent_reported)
        if c is None and p is None:
            return "not quantified"
        text = f"{c}" if c is not None else ""
        if p is not None:
            text += f" ({cell(p)}%)" if c is not None else f"{cell(p)}%"
        return text + (f" of {cell(n)}" if n is not None else "")

    def where(r):
        if isinstance(r.study, str):
            return r.study + (f" / {r.cohort}" if isinstance(r.cohort, str) else "")
        return r.population if isinstance(r.population, str) else "all XPO1 inhibitors"

    def treatment(r):
        if not isinstance(r.study, str):
            return "–"
        arm = f" ({r.arm} arm)" if r.arm in ("experimental", "control") else f" ({r.arm})" if isinstance(
            r.arm, str) else ""
        return f"{r.regimen if isinstance(r.regimen, str) else 'trial'}{arm}"

    return pd.DataFrame({
        "kind": frame["kind"].str.replace("_", " "), "category": frame["category"],
        "term": frame["term"], "agent": frame["agent"], "where": [where(r) for r in frame.itertuples()],
        "regimen (arm)": [treatment(r) for r in frame.itertuples()],
        "grade": frame["grade"], "incidence": [incidence(r) for r in frame.itertuples()],
        "finding": frame["statement"],
        "source": [f"ref {cell(r.ref)}" if _plain(r.ref) is not None else r.source
                   for r in frame.itertuples()]})


# --- pooling -----------------------------------------------------------------------------------------


@app.command("pool")
@guarded
def pool_cmd(
    measure: Annotated[str, typer.Option("--measure", "-m", help="ORR, CR_CRi, CBR, DCR, CR, ...")] = "ORR",
    disease: Disease = None, agent: Agent = None, partner: Partner = None, regimen: Regimen = None,
    phase: Phase = None, setting: Setting = None, kind: Kind = None, min_n: MinN = None,
    source: Source = None, design: Design = None, randomized: Randomized = None,
    method: Annotated[str, typer.Option("--method", help="DL (DerSimonian–Laird), REML or PM "
                                                        "(Paule–Mandel)")] = "DL",
    knha: Annotated[bool, typer.Option(
        "--knha", help="Knapp–Hartung intervals (t with k-1 df, metafor's test=\"knha\"), advised for few "
        "cohorts: with k ≤ 3 tau² rests on one or two degrees of freedom and normal (z) intervals "
        "are too narrow")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", help="one pooled estimate per subgroup (each its own tau²) and the test for subgroup "
        "differences: disease, regimen, setting, agent, design or source. Applies within each group: "
        "control arms (--include-controls) are split apart too, never pooled with XPO1 arms")] = None,
    leave_one_out: Annotated[bool, typer.Option(
        "--leave-one-out", help="also refit with each cohort left out (metafor's leave1out), naming the "
        "cohort that moves the estimate most; machine formats add rows with row=leave-one-out")] = False,
    correction: Annotated[str, typer.Option(
        "--correction", help="continuity correction on the logit scale: only0 (0.5 added to both cells of "
        "0/n and n/n cohorts, metafor's default), all (every cohort) or none (refuses 0/n and n/n). "
        "No binomial-normal GLMM is offered: it is not yet implemented and checked against metafor's "
        "rma.glmm")] = "only0",
    ci: CiMethod = "exact", level: Level = 0.95,
    plot: Annotated[str | None, typer.Option("--plot", help="also save a forest plot: forest.svg, "
                                             ".png or .pdf (needs the [plot] extra)")] = None,
    include_controls: Annotated[bool, typer.Option(
        "--include-controls", help="also pool the control arms of randomized trials")] = False,
    fmt: Fmt = None,
) -> None:
    """Random-effects meta-analysis of a proportion across the matching cohorts (logit scale),
    with the common-effect estimate, the prediction interval, tau², I², Cochran's Q and each
    cohort's weight, and a forest plot. One population per trial: subgroups and second reports
    are left out.

    Example: xpo1 pool --measure ORR --disease AML --knha --plot forest.svg
    """
    from .query import filter_studies
    from .stats import CORRECTIONS, POOL_METHODS

    method = method.strip().upper()
    if method not in POOL_METHODS:
        fail(f"unknown method '{method}'; known: {', '.join(POOL_METHODS)}")
    ci = _interval_options(ci, level)
    if correction not in CORRECTIONS:
        fail(f"unknown continuity correction '{correction}'; known: {', '.join(CORRECTIONS)}")
    from .views import BY_COLUMNS

    if by is not None:
        by = by.strip().lower()
        if by not in BY_COLUMNS:
            fail(f"cannot split a pool by '{by}'; known: {', '.join(BY_COLUMNS)}")
    if plot is not None:
        from .plot import PLOT_HINT, have_matplotlib

        if Path(plot).suffix.lower() not in (".svg", ".png", ".pdf"):
            fail("--plot takes a file ending in .svg, .png or .pdf")
        if not have_matplotlib():
            fail(PLOT_HINT, EXIT_DATA)
        _check_writable(Path(plot))
    fmt = resolve_format(fmt)
    ds = load()
    f = filters(disease, agent, partner, regimen, phase, setting, kind, min_n, source, design, randomized)
    studies = filter_studies(ds, f)
    from .query import filter_arms
    from .render import level_text
    from .views import (
        CONTROL_GROUP,
        pool_caption,
        pool_inputs,
        pool_leave_one_out,
        pool_mixes,
        pool_reports,
        pool_table,
    )

    included, excluded = pool_inputs(ds, studies, measure, include_controls=include_controls,
                                     matched=filter_arms(ds, f, studies))
    groups = {g: included[included["group"] == g] for g in dict.fromkeys(included["group"])}
    pooled = {g: rows for g, rows in groups.items() if len(rows) >= 2}
    if not pooled:
        names = ", ".join(f"{r.study}/{r.cohort}" for r in included.itertuples()) or "none"
        fail(f"pooling needs at least two independent cohorts with counts; matched: {names}")
    lv = level_text(level)
    tables, captions, omitted = [], [], []
    for group, rows in pooled.items():
        try:
            frame, summary = pool_table(rows, method=method, ci=ci, level=level, knha=knha,
                                        correction=correction, by=by)
            loo = pool_leave_one_out(rows, method=method, level=level, knha=knha,
                                     correction=correction) if leave_one_out else None
        except ValueError as exc:
            fail(str(exc))
        tables.append((group, frame, summary))
        captions.append(pool_caption(summary))
        omitted.append(loo)
    measure_name = tables[0][2]["measure"]
    if plot is not None:  # drawn before anything is printed: a plot that fails leaves no output
        import pandas as pd

        from .plot import forest_file

        shown = ", ".join(_filter_words(f)) or "all cohorts"
        title = (f"Pooled {measure_name} ({shown}) — {tables[0][2]['label']}"
                 + (f", by {by}" if by else ""))
        _write_beside(Path(plot), lambda tmp: forest_file(
            pd.concat([t[1] for t in tables], ignore_index=True), tmp, title=title, caption=" ".join(captions)))
    left = [f"left out {r.study}/{r.cohort}: {r.reason}" for r in excluded.itertuples()]
    if len(left) > 12:
        left = [*left[:10], f"... and {len(left) - 10} more cohorts left out (subgroups, second "
                "reports, or figures without counts)"]
    single = [f"not pooled, the only cohort of its group ({g}): {r.study}/{r.cohort} {r.events}/{r.n}"
              for g, rows in groups.items() if len(rows) == 1 for r in rows.itertuples()]
    kind_note = ("Pooled single-arm cohorts and arms of different designs and populations: a summary of "
                 "the evidence, not an estimate of one treatment's effect.")
    if CONTROL_GROUP in pooled:
        kind_note += " Control arms are pooled apart, as their own estimate, never with XPO1-inhibitor arms."
    warn = [kind_note, *pool_mixes(included, by=by), *pool_reports(included, excluded), *single, *left]
    influence = []
    for (group, _, _), loo in zip(tables, omitted, strict=True):
        if loo is not None:
            top = loo.iloc[loo.attrs["most_influential"]]
            influence.append(
                f"{group}: leaving out {top['study']}/{top['cohort']} moves the pooled estimate most, "
                f"by {top['shift']:+.1f} percentage points (to {top['percent']:.1f}%).")
    if fmt in ("table", "plain"):
        import sys

        from .render import forest, leave_one_out_table, terminal_width, wrap_words

        columns = terminal_width(sys.stdout)
        for (group, frame, summary), caption, loo in zip(tables, captions, omitted, strict=True):
            heading = f"Pooled {measure_name}, {lv} CI: {group} ({summary['label']})"
            typer.echo("\n".join(wrap_words(heading, columns) if columns else [heading]))
            forest(frame, caption=caption)
            if loo is not None:
                typer.echo(f"\nLeave-one-out — {group} ({lv} CI)")
                leave_one_out_table(loo)
        for line in [*influence, *(f"note: {w}" for w in warn)]:
            typer.echo("\n".join(wrap_words(line, columns)) if columns else line)
    else:
        import pandas as pd

        parts = [p for t, loo in zip(tables, omitted, strict=True) for p in (t[1], loo) if p is not None]
        output(pd.concat(parts, ignore_index=True), fmt, title=f"Pooled {measure_name}",
               notes=[*captions, *influence], warnings=warn)
    if plot is not None:
        typer.echo(f"saved {plot}", err=True)


def _cannot_write(path: Path, exc: OSError | str) -> None:
    reason = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    fail(f"cannot write {path}: {reason}; nothing written", EXIT_DATA)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_writable(path: Path) -> None:
    """Refuse, before any work or output, a file that cannot be created where the user asked."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        if path.is_dir():
            _cannot_write(path, "it is a folder")
        if not folder.is_dir():
            _cannot_write(path, "no such folder" if not folder.exists() else "not in a folder")
        if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
            _cannot_write(path, "permission denied")
    except (OSError, ValueError) as exc:
        _cannot_write(path, exc if isinstance(exc, OSError) else str(exc))


def _write_beside(path: Path, write) -> None:
    """write(tmp) to a temporary file in the target's folder, then rename it into place: the
    target is either the whole new file or untouched."""
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=path.suffix, dir=folder)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        _cannot_write(path, exc)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _filter_words(f) -> list[str]:
    """The filters of a query as words for a figure's title: 'disease MM', 'source review'."""
    import dataclasses

    words = []
    for field in dataclasses.fields(f):
        value = getattr(f, field.name)
        if value is None or value == ():
            continue
        name = {"evidence": "type", "min_n": "n ≥"}.get(field.name, field.name.replace("_", " "))
        if isinstance(value, tuple):
            value = " + ".join(value)
        words.append(f"{name} {value}")
    return words


# --- sources and citations ----------------------------------------------------------------------------


@app.command("trials")
@guarded
def trials_cmd(
    status: Annotated[str, typer.Option(
        "--status", help="ongoing (registered, recruiting or active, or no results in the sources yet), "
        "results, or all", autocompletion=lambda incomplete: matching(("ongoing", "results", "all"),
                                                                     incomplete))] = "all",
    disease: Disease = None,
    fmt: Fmt = None,
) -> None:
    """Every trial with its status as a source states it, its reports and whether any result is
    known: what is coming as well as what is published.

    Example: xpo1 trials --status ongoing --disease MM
    """
    from .query import trials_table

    for name, value in (("--status", status), ("--disease", disease)):
        if value is not None and not value.strip():
            fail(f"{name} needs a value")
    output(trials_table(load(), status, disease), fmt, title="Trials",
           notes=["status: as a source states it (empty where none does); results: whether any report "
                  "in the data carries figures. 'xpo1 show TRIAL' gives every report."])


@app.command("syntheses")
@guarded
def syntheses_cmd(disease: Disease = None, fmt: Fmt = None) -> None:
    """Published systematic reviews and meta-analyses with their own pooled figures, kept apart
    from the trials: 'pool' never pools them again and prints a matching one beside its result.

    Example: xpo1 syntheses --disease MM
    """
    from .query import syntheses_table

    output(syntheses_table(load(), disease), fmt, title="Published syntheses (not trials)",
           notes=["Figures as the synthesis prints them; low/high are the bracketed figures it prints "
                  "beside a value, described in 'bracket'."])


@app.command("sources")
@guarded
def sources_cmd(
    which: Annotated[str | None, typer.Option("--source", help="review, later or all [default: all]")] = None,
    fmt: Fmt = None,
) -> None:
    """The sources every figure comes from: the review and the later reports, with their addresses
    and the citation details they state.

    Example: xpo1 sources --source later
    """
    from .query import sources_table

    output(sources_table(load(), which), fmt, title="Sources",
           notes=["Identifiers (citation, DOI, PMID) appear only where a source states them."])


@app.command("cite")
@guarded
def cite_cmd(
    source: Annotated[str, typer.Argument(help="a source id (B1, D3, ...), a study id or a trial id",
                                          autocompletion=_completer("sources", "source"))],
    bibtex: Annotated[bool, typer.Option("--bibtex", help="BibTeX only")] = False,
) -> None:
    """A citation built only from the fields the sources state, as plain text and BibTeX.

    Example: xpo1 cite D3
    """
    from .query import UnknownName, citations, suggest

    ds = load()
    try:
        found = citations(ds, source)
    except UnknownName:
        fail(f"unknown source, study or trial '{source}'; "
             f"{suggest(source, ds.sources['source'], listing='xpo1 sources')} "
             "(or a study or trial id: 'xpo1 list' shows them)")
    for plain, bib in found:
        if not bibtex:
            typer.echo(plain)
        typer.echo(bib)
from .brief_command import brief as _brief  # noqa: E402  (registered last: it imports the aliases above)

app.command("brief")(guarded(_brief))
