"""The options every command shares, declared once: output format, the eleven filters (handed to a
command as one `FilterOptions`), interval options, and their shell completion.

Completion reads the CSV files with the csv module only: a completion request never loads pandas.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .errors import STATE, fail

if TYPE_CHECKING:
    from ..api import Dataset, Selection

# --- completion (csv module only: completion must stay instant) -----------------------------------


def data_dir() -> Path:
    """The folder of the dataset in use: --data, else XPO1_DATA, else the bundled data."""
    from ..datapackage import bundled_root

    given = STATE["data"] or os.environ.get("XPO1_DATA")
    if given:
        p = Path(given)
        return p.parent if p.suffix == ".json" else p
    return bundled_root()


def names(table: str, *columns: str, where=None) -> list[str]:
    """The values of some columns of a table of the dataset in use (`where(row)` keeps rows)."""
    import csv

    try:
        with open(data_dir() / f"{table}.csv", encoding="utf-8-sig", newline="") as fh:
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


def completer(table: str, *columns: str, where=None):
    """A completion callback offering the values of some columns of a table."""

    def complete(incomplete: str) -> list[str]:
        return matching(names(table, *columns, where=where), incomplete)

    return complete


def complete_study(incomplete: str) -> list[str]:
    """Study ids, trial ids and the review's reference numbers, for `show`."""
    found = [*names("studies", "study"), *names("trials", "trial"), *names("studies", "ref")]
    return matching(found, incomplete)


def _is_agent(row: dict) -> bool:
    return "XPO1 inhibitor" in (row.get("drug_class") or "").split(";")


def complete_format(incomplete: str) -> list[str]:
    from ..render import FORMATS

    return [f for f in FORMATS if f.startswith(incomplete.lower())]


# --- the output format ----------------------------------------------------------------------------

Fmt = Annotated[str | None, typer.Option(
    "--format", "-f", help="table, plain, markdown, csv, tsv, excel, json or jsonl (any case) "
    "[default: table on a terminal, csv when piped]. tsv writes a tab or line break in a cell as "
    "\\t, \\n, \\r; excel is CSV with a BOM and CRLF, and a ' before text cells starting "
    "with = + - @ so a spreadsheet does not run them as formulas",
    autocompletion=complete_format)]

# --- the filters ----------------------------------------------------------------------------------

Disease = Annotated[str | None, typer.Option(
    "--disease", "-d", help="MM, WM, AML, MDS, MF, AL, NHL (includes DLBCL, MCL, TCL, NKTCL), DLBCL, MCL, "
    "TCL, NKTCL, or a full name",
    autocompletion=completer("diseases", "disease"))]
Agent = Annotated[str | None, typer.Option(
    "--agent", "-a", help="selinexor, eltanexor (or KPT-330, KPT-8602)",
    autocompletion=completer("drugs", "drug", where=_is_agent))]
Partner = Annotated[list[str] | None, typer.Option(
    "--partner", "-p", help="combination drug or drug class (repeatable; all must be present), "
    "e.g. bortezomib, 'proteasome inhibitor', IMiD", autocompletion=completer("drugs", "drug",
                                                                             "drug_class"))]
Regimen = Annotated[str | None, typer.Option(
    "--regimen", "-r", help="regimen code or alias: SVd, S-Vd, XVd, 'selinexor+bortezomib+dex'",
    autocompletion=completer("regimens", "regimen"))]
Phase = Annotated[str | None, typer.Option(
    "--phase", help="1 (includes 1b, 1/2, 1/3), 1b, 1/2, 1/3, 2 (includes 2b, 1/2, 2/3), 2b, 2/3, 3 "
    "(includes 1/3, 2/3); roman numerals, 'phase' and dashes read too: 'I/II', 'phase 1b', '1–2'",
    autocompletion=lambda incomplete: matching(("1", "1b", "1/2", "1/3", "2", "2b", "2/3", "3"),
                                               incomplete))]
Setting = Annotated[str | None, typer.Option(
    "--setting", help="relapsed/refractory (rr), newly diagnosed (nd), mixed",
    autocompletion=lambda incomplete: matching(("rr", "nd", "mixed"), incomplete))]
Kind = Annotated[str | None, typer.Option(
    "--type", help="clinical, preclinical, case, review (systematic reviews) or realworld (real-world "
    "series)", autocompletion=lambda incomplete: matching(("clinical", "preclinical", "case", "review",
                                                           "realworld"), incomplete))]
MinN = Annotated[int | None, typer.Option("--min-n", min=0, help="at least this many patients")]
Source = Annotated[str | None, typer.Option(
    "--source", help="review (the review's own figures), later (reports added after it: the source packs and "
    "imports) or all [default: all]",
    autocompletion=lambda incomplete: matching(("review", "later", "all"), incomplete))]
Design = Annotated[str | None, typer.Option(
    "--design", help="randomized phase 3, randomized phase 2, single-arm, phase 1, case report, preclinical")]
Randomized = Annotated[bool | None, typer.Option(
    "--randomized/--non-randomized", help="only randomized (or only non-randomized) studies")]
Age = Annotated[str | None, typer.Option(
    "--age", help="adult, paediatric (children), mixed, or non-paediatric (leaves out paediatric and "
    "mixed populations, keeps studies whose ages are not stated)",
    autocompletion=lambda incomplete: matching(("adult", "paediatric", "mixed", "non-paediatric"), incomplete))]

FILTER_OPTIONS = {"disease": Disease, "agent": Agent, "partner": Partner, "regimen": Regimen,
                  "phase": Phase, "setting": Setting, "kind": Kind, "min_n": MinN, "source": Source,
                  "design": Design, "randomized": Randomized, "age": Age}
MAX_VALUE = 200  # characters of a filter value


@dataclasses.dataclass(frozen=True)
class FilterOptions:
    """The filter options as typed. `select(dataset)` checks them and gives the selection."""

    disease: str | None = None
    agent: str | None = None
    partner: list[str] | None = None
    regimen: str | None = None
    phase: str | None = None
    setting: str | None = None
    kind: str | None = None
    min_n: int | None = None
    source: str | None = None
    design: str | None = None
    randomized: bool | None = None
    age: str | None = None

    def check(self) -> None:
        """Refuse an empty or over-long value, naming the option as the user typed it."""
        for name, value in (("--disease", self.disease), ("--agent", self.agent),
                            ("--regimen", self.regimen), ("--phase", self.phase),
                            ("--setting", self.setting), ("--type", self.kind),
                            ("--source", self.source), ("--design", self.design), ("--age", self.age),
                            *(("--partner", p) for p in (self.partner or []))):
            if value is not None and not value.strip():
                fail(f"{name} needs a value")
            if value is not None and len(value) > MAX_VALUE:
                fail(f"{name} value is too long ({len(value)} characters)")

    def select(self, dataset: Dataset) -> Selection:
        """The checked filters applied to a dataset: its selection (names resolved once)."""
        self.check()
        return dataset.select(disease=self.disease, agent=self.agent, partner=tuple(self.partner or ()),
                              regimen=self.regimen, phase=self.phase, setting=self.setting,
                              evidence=self.kind, min_n=self.min_n, source=self.source, design=self.design,
                              randomized=self.randomized, age=self.age)


def with_filters(func):
    """Give a command the twelve filter options in place of its `filters: FilterOptions`
    parameter (at the same place in its --help), and hand them to it as one FilterOptions."""
    signature = inspect.signature(func, eval_str=True)
    params: list[inspect.Parameter] = []
    for p in signature.parameters.values():
        if p.name == "filters":
            params += [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                         annotation=alias) for name, alias in FILTER_OPTIONS.items()]
        else:
            params.append(p)

    @functools.wraps(func)
    def wrapper(**kwargs):
        given = {name: kwargs.pop(name, None) for name in FILTER_OPTIONS}
        return func(filters=FilterOptions(**given), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


# --- intervals ------------------------------------------------------------------------------------

CiMethod = Annotated[str, typer.Option("--ci", help="exact (Clopper–Pearson) or wilson")]
Level = Annotated[float, typer.Option("--level", help="confidence level, e.g. 0.95 or 0.90")]


def interval_options(ci: str, level: float) -> str:
    """--ci in any case and --level, checked before the dataset is read (api.check_interval)."""
    from ..api import check_interval

    return check_interval(ci, level)
