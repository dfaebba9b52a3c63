"""Pure functions over the dataset: name resolution, filters, derived counts, headline rows.

No I/O and no printing here: the CLI turns LookupError into a usage error, and render prints.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import Dataset, as_fields, foreign_keys, per_dataset
from .values import (
    LIST_SEP,
    first_rows,
    key_codes,
    last_match,
    last_values,
    missing,
    per_distinct,
    row_tuples,
    split_list,
    value_or_none,
)

TIME_MEASURES = ("PFS", "OS", "DOR", "TTR", "FU")
# Mutually exclusive best-response categories, deepest first.
CATEGORIES = ("sCR", "CR", "CRi", "VGPR", "PR", "MR", "SD", "PD")
# A summary measure is the sum of these categories; the last one is the shallowest it includes,
# and a breakdown must reach it before the categories are taken to make up the whole.
COMPOSITES = {
    "CR_CRi": ("CR", "CRi"),
    "CR_or_better": ("sCR", "CR"),
    "ORR": ("sCR", "CR", "CRi", "VGPR", "PR"),
    "CBR": ("sCR", "CR", "CRi", "VGPR", "PR", "MR"),
    "DCR": ("sCR", "CR", "CRi", "VGPR", "PR", "MR", "SD"),
}
# Categories printed as rates that add up to more than everyone are read as cumulative ("or
# better") rates: the summary each one then is.
CUMULATIVE_READING = {"MR": "CBR", "PR": "ORR", "VGPR": "≥VGPR", "CR": "≥CR"}
CUMULATIVE_BASIS = "cumulative reading of the printed {} rate"


def printed_as_cumulative(percents: Iterable[float]) -> bool:
    """Whether mutually exclusive categories printed as these percentages cover more than
    everyone (over 100.5%, beyond rounding), so they can only be cumulative rates."""
    pcts = [float(p) for p in percents]
    return len(pcts) > 1 and sum(pcts) > 100.5


EVIDENCE_TYPES = {"clinical": "clinical trial", "preclinical": "preclinical", "case": "case report",
                  "review": "systematic review", "realworld": "real-world series"}
# --age: the study-level age groups each value selects ('non-paediatric' keeps unstated ages too)
AGE_GROUPS = {"adult": ("adult",), "adults": ("adult",), "paediatric": ("paediatric",),
              "pediatric": ("paediatric",), "children": ("paediatric",), "child": ("paediatric",),
              "mixed": ("mixed",)}
NOT_PAEDIATRIC = ("nonpaediatric", "nonpediatric", "nochildren")
SETTINGS = {
    "relapsed/refractory": "relapsed/refractory",
    "rr": "relapsed/refractory",
    "relapsed": "relapsed/refractory",
    "refractory": "relapsed/refractory",
    "relapsedrefractory": "relapsed/refractory",
    "relapsedorrefractory": "relapsed/refractory",
    "relapsedandorrefractory": "relapsed/refractory",
    "newlydiagnosed": "newly diagnosed",
    "nd": "newly diagnosed",
    "untreated": "newly diagnosed",
    "frontline": "newly diagnosed",
    "firstline": "newly diagnosed",
    "mixed": "mixed",
}
CLASS_ALIASES = {
    "pi": "proteasome inhibitor",
    "proteasomeinhibitors": "proteasome inhibitor",
    "imids": "IMiD",
    "immunomodulatorydrug": "IMiD",
    "immunomodulatorydrugs": "IMiD",
    "cd38": "anti-CD38 antibody",
    "anticd38": "anti-CD38 antibody",
    "cd38antibody": "anti-CD38 antibody",
    "hma": "hypomethylating agent",
    "steroid": "corticosteroid",
    "chemo": "chemotherapy",
    "flt3": "FLT3 inhibitor",
    "anthracyclines": "anthracycline",
}


# The phases a study or trial can hold (the enum of studies.phase and trials.phase in the
# package schema; a test checks they agree).
PHASES = ("1", "1b", "1/2", "1/3", "2", "2b", "2/3", "3")
PHASE_FORMS = ("known: 1, 1b, 1/2, 1/3, 2, 2b, 2/3, 3 (a bare 1, 2 or 3 includes every phase with "
               "that stage), in arabic or roman numerals, with or without 'phase', two stages joined "
               "by '/', '-' or a dash: 'I/II', 'phase 1b' and '1–2' are read")
# One stage: 1-4 in arabic or roman numerals, then an optional sub-phase letter; two stages are
# joined by a slash, hyphen or any dash, each optionally after 'phase' (or 'ph'). Read on the
# text NFKC-folded (full-width digits are digits), case-folded, with whitespace collapsed.
_PHASE_WORD = r"(?:ph(?:ase)?\.?[ \-]?)?"
_STAGE = r"(?:([1-4])|(iv|i{{1,3}}))([ab]?)"
_JOIN = r" ?[/\-\u2010-\u2015\u2212] ?"
PHASE_GRAMMAR = re.compile(f"{_PHASE_WORD}{_STAGE}(?:{_JOIN}{_PHASE_WORD}{_STAGE})?".format())
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def read_phase(text: str) -> str | None:
    """The phase a user wrote, in the data's spelling ('Phase I/II' -> '1/2', 'Ib' -> '1b'), or
    None when PHASE_GRAMMAR cannot read it. Only ASCII digits count as digits."""
    key = " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())
    found = PHASE_GRAMMAR.fullmatch(key)
    if found is None:
        return None
    parts = found.groups()
    stages = [(arabic or _ROMAN[roman]) + sub
              for arabic, roman, sub in (parts[:3], parts[3:]) if arabic or roman]
    return "/".join(stages)


def norm(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: 'S-Vd' -> 'svd', 'Waldenström' -> 'waldenstrom'.
    Dashes and minus signs pasted from a PDF ('S–Vd', 'S−Vd') count as hyphens."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s\-\u00ad\u2010-\u2015\u2212+_.,/'’()]", "", text.casefold())


def suggest(text: str, known: Iterable[str], aliases: dict[str, str] | None = None,
            listing: str | None = None) -> str:
    """'did you mean X?' with the closest known names first (aliases point to a name), then the
    known names when they are few, else how many there are and the command that lists them."""
    known = sorted(set(known), key=str.casefold)
    by_norm = {norm(k): k for k in known}
    for alias, name in (aliases or {}).items():
        by_norm.setdefault(norm(alias), name)
    close = difflib.get_close_matches(norm(text)[:200], list(by_norm), n=5, cutoff=0.5)
    names = list(dict.fromkeys(by_norm[c] for c in close))[:3]
    hint = f"did you mean {' or '.join(names)}? " if names else ""
    if len(known) <= 12 or not listing:
        shown = known if len(known) <= 12 else [*known[:12], "..."]
        return f"{hint}known: {', '.join(shown)}"
    return f"{hint}{len(known)} known: '{listing}' lists them"


class UnknownName(LookupError):
    """A user-typed name that the dataset does not know (the CLI exits 2 with this message)."""


@dataclass(frozen=True)
class Resolver:
    """Turns what a clinician types into the dataset's codes."""

    ds: Dataset

    # --- diseases -------------------------------------------------------------------------
    def disease_codes(self, text: str) -> set[str]:
        """A disease code, name or alias -> that code and every narrower one (NHL -> DLBCL, MCL)."""
        table = self.ds.diseases
        key = norm(text)
        hit = None
        for row in row_tuples(table):
            names = [row.disease, row.name, *split_list(row.aliases)]
            if key and key in {norm(n) for n in names}:
                hit = row.disease
                break
        if hit is None:
            aliases = {n: row.disease for row in row_tuples(table)
                       for n in [row.name, *split_list(row.aliases)]}
            raise UnknownName(f"unknown disease '{text}'; {suggest(text, table['disease'], aliases, 'xpo1 diseases')}")
        codes = {hit}
        children = dict(zip(table["disease"], table["parent"], strict=True))
        changed = True
        while changed:
            changed = False
            for child, parent in children.items():
                if parent in codes and child not in codes:
                    codes.add(child)
                    changed = True
        return codes

    # --- drugs, agents and classes -----------------------------------------------------------
    def _drug_index(self) -> tuple[dict[str, str], dict[str, str]]:
        """Exact names and aliases, then case- and punctuation-insensitive ones."""
        exact: dict[str, str] = {}
        loose: dict[str, str] = {}
        for row in row_tuples(self.ds.drugs):
            for name in [row.drug, *split_list(row.aliases)]:
                exact.setdefault(name.strip(), row.drug)
                loose.setdefault(norm(name), row.drug)
        return exact, loose

    def drug(self, text: str) -> str | None:
        """A drug from its name or alias; letter codes are case-sensitive first ('D' is
        daratumumab, 'd' dexamethasone), then any case."""
        exact, loose = self._drug_index()
        return exact.get(text.strip()) or loose.get(norm(text))

    def agents(self) -> list[str]:
        drugs = self.ds.drugs
        return sorted(d for d, c in zip(drugs["drug"], drugs["drug_class"], strict=True)
                      if "XPO1 inhibitor" in split_list(c))

    def agent(self, text: str) -> str:
        hit = self.drug(text)
        if hit in self.agents() or hit in set(self.ds.studies["agent"]):
            return hit
        raise UnknownName(f"unknown agent '{text}'; {suggest(text, self.agents(), listing='xpo1 agents')}")

    def classes(self) -> dict[str, set[str]]:
        """Drug class -> drugs of that class."""
        out: dict[str, set[str]] = {}
        for d, c in zip(self.ds.drugs["drug"], self.ds.drugs["drug_class"], strict=True):
            for cls in split_list(c):
                out.setdefault(cls, set()).add(d)
        return out

    def partner(self, text: str) -> set[str]:
        """A drug name/alias -> {drug}; a drug class (or its abbreviation) -> every drug of it."""
        hit = self.drug(text)
        if hit:
            return {hit}
        classes = self.classes()
        key = norm(text)
        key = norm(CLASS_ALIASES.get(key, text))
        for cls, drugs in classes.items():
            if norm(cls) in (key, key.rstrip("s")):
                return drugs
        known = list(self.ds.drugs["drug"]) + list(classes)
        raise UnknownName(f"unknown partner drug or class '{text}'; {suggest(text, known, listing='xpo1 regimens')}")

    # --- regimens ---------------------------------------------------------------------------
    def regimen_drugs(self) -> dict[str, frozenset[str]]:
        return {
            r.regimen: frozenset([*([r.agent] if isinstance(r.agent, str) else []), *split_list(r.partners)])
            for r in row_tuples(self.ds.regimens)
        }

    def regimen(self, text: str) -> str:
        """A code or alias ('SVd', 's-vd', 'XVd') or drug names in any order -> regimen code."""
        key = norm(text)
        for row in row_tuples(self.ds.regimens):
            if key and key in {norm(n) for n in [row.regimen, *split_list(row.aliases)]}:
                return row.regimen
        drugs = self._parse_drugs(text)
        members = self.regimen_drugs()
        if drugs:
            for code, has in members.items():
                if has == drugs:
                    return code
        count = f"{len(members)} known: 'xpo1 regimens' lists them"
        wider = sorted((c for c, has in members.items() if drugs and drugs < has),
                       key=lambda c: (len(members[c]), c.casefold()))
        if wider:  # 'selinexor+bortezomib' -> SVd, which adds dexamethasone
            named = " or ".join(f"{c} ({' + '.join(sorted(members[c], key=lambda d: (d not in drugs, d)))})"
                                for c in wider[:3])
            raise UnknownName(f"unknown regimen '{text}'; did you mean {named}? {count}")
        aliases = {a: r.regimen for r in row_tuples(self.ds.regimens) for a in split_list(r.aliases)}
        raise UnknownName(f"unknown regimen '{text}'; "
                          f"{suggest(text, self.ds.regimens['regimen'], aliases, 'xpo1 regimens')}")

    def _parse_drugs(self, text: str) -> frozenset[str] | None:
        """'dexamethasone + bortezomib + selinexor' -> the drug set; None if any part is unknown."""
        parts = [p for p in re.split(r"\s*(?:\+|,|&|/|\band\b|\bwith\b|\bplus\b)\s*", text,
                                     flags=re.I) if p]
        if len(parts) < 2:
            return None
        codes = {norm(r.regimen): r.regimen for r in row_tuples(self.ds.regimens)}
        members = self.regimen_drugs()
        found: set[str] = set()
        i = 0
        while i < len(parts):
            for j in range(len(parts), i, -1):  # longest run first, so '7+3' reads as one regimen
                chunk = "+".join(parts[i:j])
                drug = self.drug(chunk)
                if drug:
                    found.add(drug)
                    break
                if norm(chunk) in codes and j - i > 1:
                    found |= members[codes[norm(chunk)]]
                    break
            else:
                return None
            i = j
        return frozenset(found)

    # --- phases and settings ------------------------------------------------------------------
    @staticmethod
    def phase(text: str) -> str:
        """A phase as typed ('I/II', 'phase 1b', '1–2', 'IIb') -> the phase as the data stores
        it ('1/2', '1b', '1/2', '2b'), read by PHASE_GRAMMAR; what it cannot read, or reads as a
        phase no study or trial can hold, is refused naming the accepted forms."""
        key = read_phase(text)
        if key is None or key not in PHASES:
            held = f" (read as {key}, which no study or trial holds)" if key else ""
            raise UnknownName(f"unknown phase '{text}'{held}; {PHASE_FORMS}")
        return key

    @staticmethod
    def setting(text: str) -> str:
        hit = SETTINGS.get(norm(text))
        if hit is None:
            raise UnknownName(
                f"unknown setting '{text}'; known: relapsed/refractory (rr), newly diagnosed (nd), mixed"
            )
        return hit

    @staticmethod
    def evidence(text: str) -> str:
        key = norm(text)
        for short, full in EVIDENCE_TYPES.items():
            if key in (short, norm(full), norm(full) + "s"):
                return full
        raise UnknownName(f"unknown study type '{text}'; known: clinical, preclinical, case, review, "
                          "realworld")

    @staticmethod
    def age(text: str) -> tuple[tuple[str, ...], bool]:
        """--age value -> (the age groups it selects, whether it instead excludes paediatric and
        mixed populations, keeping studies whose ages are not stated)."""
        key = norm(text)
        if key in NOT_PAEDIATRIC:
            return ("paediatric", "mixed"), True
        if key in AGE_GROUPS:
            return AGE_GROUPS[key], False
        raise UnknownName(f"unknown age group '{text}'; known: adult, paediatric (children), mixed, "
                          "non-paediatric")


def design_phase(text: str) -> str:
    """A --design value with its phase in the data's spelling ('randomized phase III' ->
    'randomized phase 3'); unchanged where no phase in it reads."""
    found = re.fullmatch(r"(.*?)\b(ph(?:ase)?\b.*)", text.strip(), flags=re.I | re.S)
    phase = read_phase(found[2]) if found else None
    return f"{found[1]}phase {phase}" if phase else text


def phase_matches(study_phase, wanted: str) -> bool:
    """Whether a stored phase is one a --phase value (as Resolver.phase gives it) asks for: a bare
    number asks for every phase with that stage ('1': 1, 1b, 1/2, 1/3); anything else ('1b',
    '1/2', '2b') for that phase alone."""
    if not isinstance(study_phase, str):
        return False
    if study_phase == wanted:
        return True
    if wanted.isdigit():
        return any(stage.rstrip("ab") == wanted for stage in study_phase.split("/"))
    return False


@dataclass
class Filters:
    """The study filters every listing and view shares."""

    disease: str | None = None
    agent: str | None = None
    partner: tuple[str, ...] = ()
    regimen: str | None = None
    phase: str | None = None
    setting: str | None = None
    evidence: str | None = None
    min_n: int | None = None
    source: str | None = None  # review, later or all
    design: str | None = None
    randomized: bool | None = None
    age: str | None = None

    def arm_level(self) -> bool:
        """Whether a filter names a treatment, which selects arms rather than whole studies."""
        return bool(self.agent or self.partner or self.regimen)


NOT_STATED = "randomization not stated"
DESIGNS = ("randomized phase 3", "randomized phase 2", "randomized", "single-arm", "phase 1/2", "phase 1",
           "case report", "preclinical", "real-world series", "systematic review", NOT_STATED)


@per_dataset
def arm_table(ds: Dataset) -> pd.DataFrame:
    """Every cohort with the treatment it describes: its regimen (its own, else its parent's,
    else the study's — never the study's for a control arm), that regimen's XPO1 agent (none for
    a control arm) and partner drugs, and its arm (its own, else its parent's)."""
    coh = ds.cohorts
    study = np.array(column(coh, "study"), dtype=object)

    def cells(frame: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
        """Cells of these rows (None where missing, and for row -1: no such row)."""
        return np.array([*column(frame, name), None], dtype=object)[rows]

    of_study = last_match([study], [ds.studies["study"]])  # a study listed twice: its last row
    own = np.array(inherited(coh, "regimen"), dtype=object)
    arm = np.array(inherited(coh, "arm"), dtype=object)
    # a control arm never takes the study's regimen or agent: whose treatment it is, is its own
    control = arm == "control"
    regimen = np.where((pd.isna(own) | (own == "")) & ~control, cells(ds.studies, "regimen", of_study), own)
    of_regimen = last_match([regimen], [ds.regimens["regimen"]])
    out = coh.copy()
    out["regimen"] = regimen.tolist()
    out["arm"] = arm.tolist()
    out["agent"] = np.where(of_regimen >= 0, cells(ds.regimens, "agent", of_regimen),
                            np.where(control, None, cells(ds.studies, "agent", of_study))).tolist()
    out["partners"] = cells(ds.regimens, "partners", of_regimen).tolist()
    return out.reset_index(drop=True)


def inherited(coh: pd.DataFrame, name: str) -> list:
    """A cohort column with each missing cell taken from the nearest ancestor that has it (None
    where no ancestor does, or the parents loop back), all cohorts a level at a time. Of rows
    repeating a (study, cohort) key, the last stands for the key."""
    def cells_of(col: str) -> np.ndarray:
        cells = np.empty(len(coh), dtype=object)
        cells[:] = column(coh, col)
        return cells

    study, cohort, parent, cells = (cells_of(c) for c in ("study", "cohort", "parent", name))
    at_key = last_match([study, cohort], [study, cohort])
    up = np.where(pd.isna(parent), -1, last_match([study, parent], [study, cohort]))
    own = cells[at_key]  # each row reads its key's cells, parent included
    value, at = own.copy(), up[at_key]
    # a path without a loop climbs at most as many levels as there are cohorts
    for _ in range(len(coh)):
        need = np.flatnonzero(pd.isna(value) & (at >= 0))
        if not len(need):
            break
        value[need] = cells[at[need]]
        at[need] = up[at[need]]
    return value.tolist()


@per_dataset
def study_table(ds: Dataset) -> pd.DataFrame:
    """Studies with the derived columns users filter and read on: the partners of the study's
    own regimen, the regimens of its arms, n enrolled and evaluable, design, and whether the
    source came after the review."""
    studies = ds.studies.copy()
    coh = ds.cohorts
    study = coh["study"].to_numpy(dtype=object)
    n = coh["n"].to_numpy(dtype="float64", na_value=np.nan)
    top = coh["parent"].isna().to_numpy()  # a whole population, not a part of another cohort

    # the regimens of a study's cohorts, each once, in file order
    with_regimen = coh[coh["regimen"].notna()].drop_duplicates(["study", "regimen"])
    arms: dict[str, list[str]] = {}
    for s, r in zip(with_regimen["study"].tolist(), with_regimen["regimen"].tolist(), strict=True):
        arms.setdefault(s, []).append(r)
    studies["arm_regimens"] = [LIST_SEP.join(arms.get(s, [])) or None for s in studies["study"]]
    partners = dict(zip(ds.regimens["regimen"], ds.regimens["partners"], strict=True))
    studies["partners"] = per_distinct(lambda r: LIST_SEP.join(split_list(partners.get(r))) or None,
                                       studies["regimen"].to_numpy(dtype=object))

    # n enrolled: the 'all' cohort's n, else the sum of the top-level arms' (when each gives one),
    # else the headline population's; of cohorts listed twice, the last row stands
    ids = studies["study"].to_numpy(dtype=object)
    cohort = coh["cohort"].to_numpy(dtype=object)
    code = key_codes(np.concatenate([ids, study]))
    of_id, of_row = code[: len(ids)], code[len(ids):]
    n_keys = int(code.max()) + 1 if len(code) else 0

    def per_study(rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """A sum over the given cohort rows of each study (a count without weights)."""
        return np.bincount(of_row[rows], None if weights is None else weights[rows],
                           minlength=n_keys)[of_id]

    def n_of(rows: np.ndarray) -> np.ndarray:  # the n of these cohort rows, NaN for none (-1)
        return np.append(n, np.nan)[rows]

    def named(name: str) -> np.ndarray:
        return last_match([ids, np.full(len(ids), name, dtype=object)], [study, cohort])

    is_arm = coh["arm"].isin(["experimental", "control"]).to_numpy() & top
    arms_whole = (per_study(is_arm) > 0) & (per_study(is_arm & np.isnan(n)) == 0)
    headline = np.flatnonzero(coh["headline"].to_numpy(dtype=bool) & top)
    of_headline = last_match([ids], [study[headline]])
    whole = named("all")
    enrolled = np.where(whole >= 0, n_of(whole),
                        np.where(arms_whole, per_study(is_arm, np.nan_to_num(n)),
                                 n_of(np.append(headline, -1)[of_headline])))
    studies["n_enrolled"] = pd.array(enrolled, dtype="Float64").astype("Int64")
    studies["n_evaluable"] = pd.array(n_of(named("evaluable")), dtype="Float64").astype("Int64")
    studies["design"] = per_distinct(design, *(studies[c].to_numpy(dtype=object)
                                               for c in ("evidence_type", "phase", "randomized")))
    later = dict(zip(ds.sources["source"], ds.sources["published_after_review"], strict=True))
    studies["later"] = [bool(later.get(s, False)) for s in studies["source"]]
    return studies


def later_wanted(source: str | None) -> bool | None:
    """--source review|later|all as: True (published after the review), False (the review),
    None (no filter)."""
    if source is None:
        return None
    key = norm(source)
    if key not in ("review", "later", "all"):
        raise UnknownName(f"unknown source filter '{source}'; known: review, later, all")
    return None if key == "all" else key == "later"


def design(evidence_type: str, phase, randomized) -> str:
    """Study design label derived from evidence type, phase and randomization."""
    if evidence_type != "clinical trial":
        return evidence_type
    if missing(randomized):  # no source states the design: say so, never guess single-arm
        return f"phase {phase}, {NOT_STATED}" if isinstance(phase, str) else NOT_STATED
    if bool(randomized):
        return f"randomized phase {phase}" if isinstance(phase, str) else "randomized"
    if isinstance(phase, str) and re.fullmatch(r"1b?/2", phase):
        return "phase 1/2"
    if isinstance(phase, str) and phase.startswith("1"):
        return "phase 1"
    return "single-arm"


def arm_mask(arms: pd.DataFrame, f: Filters, res: Resolver) -> pd.Series:
    """Which cohorts of arm_table received what --regimen, --agent and --partner ask for."""
    keep = pd.Series(True, index=arms.index)
    if f.agent:
        keep &= arms["agent"] == res.agent(f.agent)
    for p in f.partner:
        drugs = res.partner(p)
        keep &= arms["partners"].map(lambda v, d=drugs: bool(d & set(split_list(v)))).astype(bool)
    if f.regimen:
        keep &= arms["regimen"] == res.regimen(f.regimen)
    return keep


def filter_arms(ds: Dataset, f: Filters, studies: pd.DataFrame) -> set[tuple[str, str]] | None:
    """The (study, cohort) pairs of the given studies whose treatment matches the arm filters,
    or None when no arm filter is given (every cohort stands)."""
    if not f.arm_level():
        return None
    arms = arm_table(ds)
    arms = arms[arms["study"].isin(set(studies["study"]))]
    hit = arms[arm_mask(arms, f, Resolver(ds))]
    return set(zip(hit["study"], hit["cohort"], strict=True))


def by_value(column: pd.Series, test) -> pd.Series:
    """test(cell) for every cell of a column as a boolean mask, asked once per distinct value (a
    column of 100,000 studies holds a few dozen diseases or phases); a missing cell is asked as None."""
    answers = per_distinct(lambda v: bool(test(None if missing(v) else v)), column.to_numpy(dtype=object))
    return pd.Series(np.array(answers, dtype=bool), index=column.index)


def filter_studies(ds: Dataset, f: Filters) -> pd.DataFrame:
    """Studies matching every given filter, in ref then study order."""
    res = Resolver(ds)
    studies = study_table(ds)
    keep = pd.Series(True, index=studies.index)
    if f.disease:
        codes = res.disease_codes(f.disease)
        keep &= by_value(studies["disease"], lambda v: bool(codes & set(split_list(v))))
    if f.arm_level():
        arms = arm_table(ds)
        matched = set(arms.loc[arm_mask(arms, f, res), "study"])
        keep &= studies["study"].isin(matched)
    if f.phase:
        wanted = res.phase(f.phase)
        keep &= by_value(studies["phase"], lambda v: phase_matches(v, wanted))
    if f.setting:
        keep &= studies["setting"] == res.setting(f.setting)
    if f.evidence:
        keep &= studies["evidence_type"] == res.evidence(f.evidence)
    if f.min_n is not None:
        n = studies["n_enrolled"].fillna(studies["n_evaluable"])
        keep &= n.fillna(-1) >= f.min_n
    wanted = later_wanted(f.source)
    if wanted is not None:
        keep &= studies["later"] == wanted
    if f.design is not None:
        key = norm(design_phase(f.design))
        hit = [d for d in DESIGNS if norm(d) == key] or [d for d in DESIGNS if norm(d).startswith(key)]
        if not hit or not key:
            raise UnknownName(f"unknown design '{f.design}'; known: {', '.join(DESIGNS)}")
        keep &= studies["design"].isin(hit) | (studies["design"].str.endswith(NOT_STATED)
                                               if NOT_STATED in hit else False)
    if f.randomized is not None:
        # a study whose design no source states is neither randomized nor non-randomized here
        keep &= studies["randomized"].map(lambda v: value_or_none(v) is not None and bool(v) == f.randomized
                                          ).astype(bool)
    if f.age is not None:
        groups, exclude = res.age(f.age)
        hit = studies["age_group"].isin(groups).astype(bool)
        keep &= ~hit if exclude else hit
    return studies[keep.astype(bool)].sort_values(["ref", "study"], na_position="last", kind="stable")


# --- counts and percentages -------------------------------------------------------------------


def decimals_of(percent: float) -> int:
    text = f"{percent:.6f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def rounding_tolerance(percent: float) -> float:
    """How far a percentage printed this way may be from the exact one: half its last digit."""
    return 0.5 * 10**-decimals_of(percent) + 1e-9


def percent_matches(count: int, denominator: int, percent: float) -> bool:
    """Whether count/denominator, rounded as printed, gives the printed percentage."""
    exact = 100 * count / denominator
    return abs(exact - percent) <= rounding_tolerance(percent)


def percents_match(counts: np.ndarray, denominators: np.ndarray, percents: np.ndarray) -> np.ndarray:
    """percent_matches over whole arrays (whole counts and denominators as float64, none missing),
    with the same arithmetic; the tolerance is worked out once per distinct percentage."""
    which, values = pd.factorize(percents)
    tolerance = np.array([rounding_tolerance(p) for p in values.tolist()], dtype="float64")
    return np.abs(100 * counts / denominators - percents) <= tolerance[which]


def counts_from_percent(percent: float, denominator: int) -> range:
    """Whole counts over denominator that print as percent (those percent_matches accepts), in a
    few steps at any denominator. The counts within rounding of percent x denominator / 100 form
    one run: its ends are worked out from that bound in exact arithmetic, then settled by
    percent_matches itself, whose float arithmetic may take or leave a count a hair beyond the
    exact bound (the settling looks only near each end)."""
    from fractions import Fraction

    n = int(denominator)
    if n <= 0 or not math.isfinite(percent):
        return range(0)
    tolerance = rounding_tolerance(percent)

    def below(k: int) -> bool:  # the count prints under the percentage's rounding interval
        return 100 * k / n - percent < -tolerance

    def above(k: int) -> bool:
        return 100 * k / n - percent > tolerance

    low = Fraction(percent) - Fraction(tolerance)
    high = Fraction(percent) + Fraction(tolerance)
    first = _first_true(lambda k: not below(k), math.ceil(low * n / 100), n)
    after = _first_true(above, math.floor(high * n / 100) + 1, n)
    return range(first, max(first, after))


def _first_true(test, guess: int, n: int) -> int:
    """The least k in 0..n for which test holds (n + 1 if none), for a test false then true
    along 0..n, searched outward from guess in doubling steps, then by halving: a few calls when
    the guess is near."""
    guess = min(max(guess, 0), n + 1)
    step = 1
    if guess > n or test(guess):  # the answer is at or below the guess
        high = guess
        low = guess - step
        while low >= 0 and test(low):
            high, step = low, 2 * step
            low = guess - step
        low = max(low, -1)
    else:
        low = guess
        high = guess + step
        while high <= n and not test(high):
            low, step = high, 2 * step
            high = guess + step
        high = min(high, n + 1)
    while high - low > 1:  # test(low) is false (or low is -1), test(high) true (or high is n + 1)
        mid = (low + high) // 2
        if test(mid):
            high = mid
        else:
            low = mid
    return high


def column(frame: pd.DataFrame, name: str) -> list:
    """A column as a plain list with missing values as None (fast row loops without pandas)."""
    series = frame[name]
    values = series.to_numpy(dtype=object, copy=True)
    values[series.isna().to_numpy()] = None
    return values.tolist()


def plain_rows(frame: pd.DataFrame) -> list[tuple]:
    """The rows as named tuples of plain Python values, None where missing: a row loop over
    them avoids pandas' per-cell cost (several times faster on large user datasets)."""
    from collections import namedtuple

    row = namedtuple("Row", list(frame.columns))
    return [row(*values) for values in zip(*(column(frame, c) for c in frame.columns), strict=True)]


KEY = ["study", "cohort", "source"]  # one source's figures for one cohort


@dataclass(frozen=True)
class Breakdowns:
    """Each (study, cohort, source) whose source prints the count of a best-response category, in
    the order such a count first appears (`keys`, and `at`: key -> row), with each category's
    count and denominator (`k`, `d`: one row per key, one column per CATEGORIES entry; NaN where
    not printed; a category printed twice: the last)."""

    keys: list
    at: dict
    k: np.ndarray
    d: np.ndarray

    def rows(self, keys) -> tuple[np.ndarray, np.ndarray]:
        """k and d for any keys (all NaN for a key without a breakdown)."""
        pos = np.fromiter((self.at.get(key, len(self.keys)) for key in keys), dtype=np.int64)
        blank = np.full((1, len(CATEGORIES)), np.nan)
        return np.vstack([self.k, blank])[pos], np.vstack([self.d, blank])[pos]


def breakdowns(outcomes: pd.DataFrame) -> Breakdowns:
    """The printed category counts of every (study, cohort, source), in one pass over those rows."""
    cats = outcomes[outcomes["measure"].isin(CATEGORIES) & outcomes["count"].notna()]
    parts = [np.array(column(cats, c), dtype=object) for c in KEY]
    row = key_codes(*parts)  # keys numbered in the order they first appear
    firsts = first_rows(row)
    at = {key: i for i, key in enumerate(zip(*(p[firsts].tolist() for p in parts), strict=True))}
    col = cats["measure"].map({c: j for j, c in enumerate(CATEGORIES)}).to_numpy(dtype=np.int64)
    shape = (len(at), len(CATEGORIES))  # in file order a category printed twice keeps the last
    return Breakdowns(keys=list(at), at=at,
                      k=last_values(row, col, cats["count"].to_numpy(dtype="float64", na_value=np.nan), shape),
                      d=last_values(row, col, cats["denominator"].to_numpy(dtype="float64", na_value=np.nan), shape))


def breakdown_sums(k: np.ndarray, d: np.ndarray, measures: np.ndarray, dens: np.ndarray,
                   composites: dict[str, tuple[str, ...]] = COMPOSITES) -> np.ndarray:
    """For rows of k and d (category counts and denominators, aligned with measures and dens),
    the summary measure's count as the sum of its categories (`composites`: measure -> its
    categories, the shallowest last) when the breakdown is whole: the categories printed over the
    same denominator reach the measure's shallowest category, or account for every patient. NaN
    where it is not whole (or the measure is no summary)."""
    have = (d == dens[:, None]) & ~np.isnan(k)
    counted = np.where(have, k, 0.0)
    complete = counted.sum(axis=1) == dens
    out = np.full(len(dens), np.nan)
    for measure, parts in composites.items():
        cols = [CATEGORIES.index(c) for c in parts]
        found = have[:, cols].any(axis=1)
        whole = (have[:, cols[-1]] | complete) & (found | complete)
        out = np.where((measures == measure) & whole, counted[:, cols].sum(axis=1), out)
    return out


def derive_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Outcomes with `count_used` and `count_basis`: reported, the sum of the categories the
    breakdown lists (see breakdown_sums), or the one whole count whose percentage prints as
    reported. Missing stays missing. Vectorized over the rows; the percentage rule loops only
    over rows that have nothing else."""
    out = outcomes.copy()
    count = out["count"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    dens = out["denominator"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    measures = out["measure"].to_numpy(dtype=object)
    used = count.copy()
    basis = np.where(~np.isnan(count), "reported", None).astype(object)
    need = np.isnan(count) & ~np.isnan(dens) & pd.Series(measures).isin(list(COMPOSITES)).to_numpy()
    if need.any():
        rows = out.loc[need, KEY]
        k, d = breakdowns(out).rows(zip(rows["study"], rows["cohort"], rows["source"], strict=True))
        sums = breakdown_sums(k, d, measures[need], dens[need])
        found = ~np.isnan(sums)
        idx = np.flatnonzero(need)
        used[idx[found]] = sums[found]
        basis[idx[found]] = "sum of categories"
    pct = out["percent_reported"].to_numpy(dtype="float64", na_value=np.nan)
    for i in np.flatnonzero(np.isnan(used) & ~np.isnan(pct) & ~np.isnan(dens)):
        ks = counts_from_percent(float(pct[i]), int(dens[i]))
        if len(ks) == 1:
            used[i], basis[i] = ks[0], "from percentage"
    out["count_used"] = pd.array(used, dtype="Int64")  # NaN -> NA
    out["count_basis"] = pd.array(basis, dtype=object)
    out["percent_calc"] = percent_of(used, dens)
    return out


def percent_of(counts: np.ndarray, dens: np.ndarray) -> np.ndarray:
    """100 * count / denominator rounded to one decimal as Python rounds; NaN where either is
    missing or the denominator is 0."""
    counts, dens = np.asarray(counts, dtype="float64"), np.asarray(dens, dtype="float64")
    ok = ~np.isnan(counts) & ~np.isnan(dens) & (dens != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(ok, 100 * counts / dens, np.nan)
    tenths = exact * 10
    out = np.rint(tenths) / 10
    # near a half the product by 10 may round across it (and far from 0 it is not exact): those
    # few are rounded as Python rounds
    near = (np.abs(tenths - np.floor(tenths) - 0.5) < 1e-6) | ~(np.abs(exact) < 1e8)
    for i in np.flatnonzero(ok & near):
        out[i] = round(float(exact[i]), 1)
    return out


def outcome_rows(ds: Dataset, studies: Iterable[str] | None = None, cohorts: set[tuple[str, str]] | None = None,
                 measures: Iterable[str] | None = None) -> pd.DataFrame:
    """The stored outcome rows of the given studies, cohorts and measures (with the categories
    every derived count is summed from): what count derivation reads."""
    base = ds.outcomes
    if studies is not None:
        base = base[base["study"].isin(set(studies))]
    if measures is not None:
        base = base[base["measure"].isin({*measures, *CATEGORIES})]
    if cohorts is not None:  # derivation stays within one cohort's rows, so this changes no figure
        base = base[of_cohorts(base, cohorts)]
    return base


def of_cohorts(frame: pd.DataFrame, cohorts: set[tuple[str, str]]) -> np.ndarray:
    """Whether each row's (study, cohort) is one of these cohorts."""
    keys = pd.MultiIndex.from_arrays([frame["study"].astype(object), frame["cohort"].astype(object)])
    return keys.isin(list(cohorts))


def with_refs(ds: Dataset, out: pd.DataFrame) -> pd.DataFrame:
    """The rows with their study's ref number in front, on a fresh index."""
    studies = ds.studies.drop_duplicates("study", keep="last")  # a study listed twice: its last ref
    at = pd.Index(studies["study"]).get_indexer(out["study"])
    out.insert(0, "ref", pd.array(studies["ref"], dtype="Int64").take(at, allow_fill=True))
    return out.reset_index(drop=True)


def outcome_table(ds: Dataset, derive_orr: bool = True, studies: Iterable[str] | None = None,
                  cohorts: set[tuple[str, str]] | None = None,
                  measures: Iterable[str] | None = None) -> pd.DataFrame:
    """Outcomes (of the given studies) with the study's ref, the derived count and the computed
    percentage; with derive_orr, an ORR row (count_basis 'derived ORR') for cohorts whose whole
    breakdown is reported but whose ORR is not."""
    out = with_refs(ds, derive_counts(outcome_rows(ds, studies, cohorts, measures)))
    if not derive_orr:
        return out
    return with_summaries(out, "ORR", COMPOSITES["ORR"], "derived ORR")


def with_summaries(out: pd.DataFrame, measure: str, parts: tuple[str, ...], basis: str) -> pd.DataFrame:
    """The outcome table (as outcome_table gives it) with a row of the summary `measure` (the sum of
    `parts`, categories with the shallowest last; count_basis `basis`) for each cohort whose source
    prints a whole breakdown over one denominator but no row of that measure."""
    b = breakdowns(out)
    if not b.keys:
        return out
    # a breakdown over one denominator, from a source that prints no row of the measure for the cohort
    have = out[out["measure"] == measure]
    has_row = set(zip(have["study"], have["cohort"], have["source"], strict=True))
    d = np.where(np.isnan(b.k), np.nan, b.d)  # denominators of the printed categories only
    lo, hi = np.where(np.isnan(d), np.inf, d).min(axis=1), np.where(np.isnan(d), -np.inf, d).max(axis=1)
    one = (lo == hi) & np.isfinite(lo) & np.array([key not in has_row for key in b.keys], dtype=bool)
    sums = breakdown_sums(b.k[one], b.d[one], np.full(int(one.sum()), measure, dtype=object), lo[one],
                          {measure: parts})
    ok = ~np.isnan(sums)
    if not ok.any():
        return out
    keys = [key for key, chosen in zip(b.keys, one, strict=True) if chosen]
    keys = [key for key, kept in zip(keys, ok, strict=True) if kept]
    den, sums = lo[one][ok], sums[ok]
    firsts = out[KEY].drop_duplicates()  # each key's first row: the derived row takes its ref and section
    first = dict(zip(zip(firsts["study"], firsts["cohort"], firsts["source"], strict=True), firsts.index,
                     strict=True))
    src = out.iloc[[first[key] for key in keys]]
    add = pd.DataFrame({c: pd.Series([None] * len(keys), dtype=out[c].dtype) for c in out.columns})
    for j, c in enumerate(KEY):
        add[c] = [key[j] for key in keys]
    add["ref"] = src["ref"].to_numpy()
    add["section"] = src["section"].to_numpy()
    add["measure"] = measure
    add["denominator"] = pd.array(den.astype("int64"), dtype=out["denominator"].dtype)
    add["count_used"] = pd.array(sums.astype("int64"), dtype="Int64")
    add["count_basis"] = basis
    add["percent_calc"] = percent_of(sums, den)
    add = add.astype(out.dtypes.to_dict())
    return pd.concat([out, add], ignore_index=True)


# --- single studies, catalogues, exports ----------------------------------------------


def find_studies(ds: Dataset, key: str) -> list[str]:
    """Study ids for a ref number (a ref may have several reports) or a study id."""
    key = key.strip()
    studies = ds.studies
    if key.isdigit():  # a reference number (digits of any script; superscripts are no number)
        hits = (sorted(studies.loc[studies["ref"] == int(key), "study"])
                if key.isdecimal() and len(key) <= 6 else [])
        if hits:
            return hits
        refs = sorted({int(r) for r in studies["ref"].dropna()})
        shown = key if len(key) <= 12 else key[:12] + "..."
        raise UnknownName(f"no study with ref {shown}; refs: {', '.join(map(str, refs))}")
    ids = {s.casefold(): s for s in studies["study"]}
    if key.casefold() in ids:
        return [ids[key.casefold()]]
    trials = {norm(t): t for t in ds.trials["trial"]}
    for trial, registry in zip(ds.trials["trial"], ds.trials["registry"], strict=True):  # NCT… ids
        for rid in split_list(registry):
            trials.setdefault(norm(rid), trial)
    if norm(key) in trials:
        trial = trials[norm(key)]
        return list(studies.loc[studies["trial"] == trial, "study"])
    raise UnknownName(f"unknown study or trial '{key}'; "
                      f"{suggest(key, [*studies['study'], *ds.trials['trial']], listing='xpo1 list')}")


def study_record(ds: Dataset, study: str) -> dict:
    """One study's fields (derived ones included), cohorts, outcomes and safety rows."""
    st = study_table(ds)
    row = st[st["study"] == study].iloc[0]

    fields = {k: value_or_none(v) for k, v in row.items()}
    outcomes = outcome_table(ds, studies=[study])
    cohorts = ds.cohorts[ds.cohorts["study"] == study].reset_index(drop=True)
    ae = ds.adverse_events[ds.adverse_events["study"] == study].reset_index(drop=True)
    comparisons = ds.comparisons[ds.comparisons["study"] == study].reset_index(drop=True)
    syntheses = ds.syntheses[ds.syntheses["study"] == study].reset_index(drop=True)
    return {"study": fields, "cohorts": cohorts, "outcomes": outcomes, "comparisons": comparisons,
            "adverse_events": ae, "syntheses": syntheses, "other_reports": other_reports(ds, study)}


def other_reports(ds: Dataset, study: str) -> pd.DataFrame:
    """The other reports of this study's trial (a later journal report of a review's reference, an
    interim abstract of a published trial), in the data's order: study, ref, report, role, source."""
    studies = ds.studies
    trial = studies.loc[studies["study"] == study, "trial"]
    if trial.empty or missing(trial.iloc[0]):
        return studies.iloc[:0][["study", "ref", "report", "report_role", "source"]].reset_index(drop=True)
    same = studies[(studies["trial"] == trial.iloc[0]) & (studies["study"] != study)]
    return same[["study", "ref", "report", "report_role", "source"]].reset_index(drop=True)


def _count_by(studies: pd.DataFrame, column: str, split: bool = False) -> dict[str, tuple[int, str]]:
    out: dict[str, list] = {}
    for value, ref in zip(studies[column], studies["ref"], strict=True):
        for v in (split_list(value) if split else [value]):
            out.setdefault(v, []).append(ref)
    return {k: (len(v), ", ".join(sorted({str(int(r)) for r in v if not missing(r)},
                                          key=int))) for k, v in out.items()}


def regimen_catalogue(ds: Dataset) -> pd.DataFrame:
    res = Resolver(ds)
    drug_class = {d: split_list(c) for d, c in zip(ds.drugs["drug"], ds.drugs["drug_class"],
                                                   strict=True)}
    counts = _count_by(ds.studies, "regimen")
    rows = []
    for r in row_tuples(ds.regimens):
        partners = split_list(r.partners)
        classes = sorted({c for p in partners for c in drug_class.get(p, [])})
        n, refs = counts.get(r.regimen, (0, ""))
        rows.append({"regimen": r.regimen, "name": r.name, "agent": r.agent,
                     "partners": LIST_SEP.join(partners) or None,
                     "partner_classes": LIST_SEP.join(classes) or None,
                     "aliases": r.aliases, "n_studies": n, "refs": refs or None})
    del res
    return pd.DataFrame(rows, columns=["regimen", "name", "agent", "partners", "partner_classes",
                                       "aliases", "n_studies", "refs"])


def disease_catalogue(ds: Dataset) -> pd.DataFrame:
    res = Resolver(ds)
    studies = ds.studies
    rows = []
    for d in row_tuples(ds.diseases):
        codes = res.disease_codes(d.disease)
        mask = studies["disease"].map(lambda v, c=codes: bool(c & set(split_list(v))))
        refs = sorted({int(r) for r in studies.loc[mask, "ref"].dropna()})
        rows.append({"disease": d.disease, "name": d.name, "parent": d.parent,
                     "includes": LIST_SEP.join(sorted(codes - {d.disease})) or None,
                     "n_studies": int(mask.sum()), "refs": ", ".join(map(str, refs)) or None})
    return pd.DataFrame(rows, columns=["disease", "name", "parent", "includes", "n_studies", "refs"])


def agent_catalogue(ds: Dataset) -> pd.DataFrame:
    res = Resolver(ds)
    drugs = ds.drugs.set_index("drug")
    counts = _count_by(ds.studies, "agent")
    rows = []
    for a in res.agents():
        n, refs = counts.get(a, (0, ""))
        regs = sorted(set(ds.studies.loc[ds.studies["agent"] == a, "regimen"].dropna()))
        rows.append({"agent": a, "aliases": drugs.at[a, "aliases"],
                     "generation": drugs.at[a, "generation"], "n_studies": n,
                     "regimens": LIST_SEP.join(regs) or None, "refs": refs or None})
    frame = pd.DataFrame(rows, columns=["agent", "aliases", "generation", "n_studies", "regimens",
                                        "refs"])
    return frame.sort_values(["n_studies", "agent"], ascending=[False, True], kind="stable")


def export_table(ds: Dataset, table: str) -> pd.DataFrame:
    """A table as stored, plus the derived columns other tools rely on."""
    if table == "studies":
        return study_table(ds)
    if table == "outcomes":
        return outcome_table(ds, derive_orr=False)
    if table == "regimens":
        return regimen_catalogue(ds)
    if table in ("cohorts",):
        refs = dict(zip(ds.studies["study"], ds.studies["ref"], strict=True))
        frame = ds.cohorts.copy()
        frame.insert(0, "ref", pd.array([refs.get(s) for s in frame["study"]], dtype="Int64"))
        return frame
    return getattr(ds, table).copy()


def sources_table(ds: Dataset, which: str | None = None) -> pd.DataFrame:
    """Sources with the number of studies and figures resting on each."""
    src = ds.sources.copy()
    wanted = later_wanted(which)
    if wanted is not None:
        src = src[src["published_after_review"].astype(bool) == wanted]
    figures = pd.concat([ds.outcomes["source"], ds.comparisons["source"], ds.adverse_events["source"]])
    counts = figures.value_counts()
    src["figures"] = pd.array([int(counts.get(s, 0)) for s in src["source"]], dtype="Int64")
    return src.reset_index(drop=True)


def citations(ds: Dataset, key: str) -> list[tuple[str, str]]:
    """(plain text, BibTeX) for a source id, or for every source of a study or trial. Only the
    fields a source states are used; nothing is completed from elsewhere."""
    src = ds.sources.set_index("source")
    wanted: list[str]
    match = [s for s in src.index if s.casefold() == key.strip().casefold()]
    if match:
        wanted = match
    else:
        studies = find_studies(ds, key)
        used = pd.concat([ds.studies.loc[ds.studies["study"].isin(studies), "source"],
                          ds.outcomes.loc[ds.outcomes["study"].isin(studies), "source"],
                          ds.comparisons.loc[ds.comparisons["study"].isin(studies), "source"]])
        wanted = list(dict.fromkeys(used))
    # (field, how plain text shows it, BibTeX key): only what the source states
    layout = (("title", "{}", "title"), ("citation", "{}", "note"), ("doi", "doi:{}", "doi"),
              ("pmid", "PMID {}", "pmid"), ("address", "{}", "url"))
    out = []
    for sid in wanted:
        r = src.loc[sid]
        stated = [(f, plain, key, r[f]) for f, plain, key in layout if isinstance(r[f], str) and r[f]]
        kind = r["kind"] if isinstance(r["kind"], str) else "source"
        text = f"[{sid}] " + ". ".join(plain.format(v) for _, plain, _, v in stated) + f" ({kind})"
        bib = "\n".join([f"@misc{{xpo1-{sid.lower()},",
                          *(f"  {key} = {{{v}}}," for _, _, key, v in stated),
                          f"  howpublished = {{{kind}}}", "}"])
        out.append((text, bib))
    return out


_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20\d\d)(?!\d)")


def stated_years(ds: Dataset) -> dict[str, int]:
    """The latest calendar year each source states about itself, for the sources that state one:
    read from its kind, title and citation ('company press release, 2017-03-02', 'Lancet
    2020;396...', 'conference report (ASH 2020)'). The data hold no publication date, and an
    address is not read (its digits are identifiers)."""
    out = {}
    for sid, *texts in row_tuples(ds.sources[["source", "kind", "title", "citation"]], index=False, name=None):
        years = [int(y) for t in texts if isinstance(t, str) for y in _YEAR.findall(t)]
        if years:
            out[sid] = max(years)
    return out


def schema_table(ds: Dataset, table: str | None = None) -> pd.DataFrame:
    """The data dictionary: every column of every table with its type, constraints and meaning,
    read from the package descriptor in use."""
    rows = []
    names = [r["name"] for r in ds.descriptor["resources"]]
    if table is not None and table not in names:
        raise UnknownName(f"unknown table '{table}'; {suggest(table, names)}")
    for res in ds.descriptor["resources"]:
        if table is not None and res["name"] != table:
            continue
        schema = res["schema"]
        pk = as_fields(schema.get("primaryKey") or [])
        refs = {}
        for fk in foreign_keys(schema):
            fields = as_fields(fk["fields"])
            target = fk["reference"]["resource"] or res["name"]
            tfields = as_fields(fk["reference"]["fields"])
            for f, t in zip(fields, tfields, strict=True):
                refs.setdefault(f, []).append(f"{target}.{t}")
        for f in schema["fields"]:
            c = f.get("constraints", {})
            allowed = []
            if "enum" in c:
                allowed.append(", ".join(map(str, c["enum"])))
            if "minimum" in c:
                allowed.append(f">= {c['minimum']}")
            if "maximum" in c:
                allowed.append(f"<= {c['maximum']}")
            if "pattern" in c:
                allowed.append(f"pattern {c['pattern']}")
            rows.append({"table": res["name"], "column": f["name"], "type": f["type"],
                         "required": bool(c.get("required")), "key": "primary" if f["name"] in pk else None,
                         "references": "; ".join(refs.get(f["name"], [])) or None,
                         "allowed": "; ".join(allowed) or None, "meaning": f.get("description")})
    return pd.DataFrame(rows, columns=["table", "column", "type", "required", "key", "references",
                                       "allowed", "meaning"])


TRIAL_STATUSES = ("ongoing", "ended", "reported", "unreported", "all")
ONGOING_STATUSES = ("registered", "recruiting", "active, not recruiting")
ENDED_STATUSES = ("closed", "stopped early")
REPORTED = "reported"
NOT_REPORTED = "no result report in our sources"


def result_reports(ds: Dataset) -> set[str]:
    """The reports (studies) that report results: any report that carries a figure (an outcome,
    a comparison or an adverse event), or whose role is stated and is not a registration (a
    conference abstract of an interim analysis reports results even where its stored copy ends
    before them)."""
    figures = set(ds.outcomes["study"].unique()) | set(ds.comparisons["study"].unique()) | set(
        ds.adverse_events["study"].dropna().unique())
    roles = ds.studies["report_role"]
    stated = ds.studies.loc[roles.notna() & (roles != "registration"), "study"]
    return figures | set(stated)


def trials_table(ds: Dataset, status: str | None = None, disease: str | None = None) -> pd.DataFrame:
    """Every trial with its status exactly as a source states it (empty where none does), and
    whether it has reported: 'results' is derived from the reports in the data (result_reports),
    'figures' says whether any of them carries a figure here. status filters: 'ongoing' (a
    source states it registered, recruiting or active), 'ended' (a source states it closed or
    stopped), 'reported' (a result report is in the data; 'results' is the same), 'unreported'
    (none is), None / 'all'. A status is never inferred from the reports."""
    figures = set(ds.outcomes["study"].unique()) | set(ds.comparisons["study"].unique()) | set(
        ds.adverse_events["study"].dropna().unique())
    reported = result_reports(ds)
    studies = ds.studies
    reports_of = {trial: reports for trial, reports in studies.groupby("trial", sort=False)}
    rows = []
    for t in row_tuples(ds.trials):
        reports = reports_of.get(t.trial, studies.iloc[:0])
        rows.append({"trial": t.trial, "name": t.name, "phase": t.phase, "disease": t.disease,
                     "randomized": t.randomized, "registry": t.registry, "planned_n": t.planned_n,
                     "status": t.status,
                     "results": REPORTED if set(reports["study"]) & reported else NOT_REPORTED,
                     "figures": "yes" if set(reports["study"]) & figures else "none stored",
                     "reports": LIST_SEP.join(reports["study"]),
                     "roles": LIST_SEP.join(dict.fromkeys(r for r in reports["report_role"] if isinstance(r, str))),
                     "source": t.source, "note": t.note})
    frame = pd.DataFrame(rows, columns=["trial", "name", "phase", "disease", "randomized", "registry",
                                        "planned_n", "status", "results", "figures", "reports", "roles",
                                        "source", "note"])
    frame["planned_n"] = frame["planned_n"].astype("Int64")
    key = norm(status or "all")
    if key == "ongoing":
        frame = frame[frame["status"].isin(ONGOING_STATUSES)]
    elif key == "ended":
        frame = frame[frame["status"].isin(ENDED_STATUSES)]
    elif key in ("reported", "results"):
        frame = frame[frame["results"] == REPORTED]
    elif key == "unreported":
        frame = frame[frame["results"] != REPORTED]
    elif key != "all":
        raise UnknownName(f"unknown status '{status}'; known: {', '.join(TRIAL_STATUSES)}")
    if disease:
        codes = Resolver(ds).disease_codes(disease)
        frame = frame[frame["disease"].map(lambda v: bool(codes & set(split_list(v)))).astype(bool)]
    return frame.reset_index(drop=True)


def syntheses_table(ds: Dataset, disease: str | None = None) -> pd.DataFrame:
    """Published pooled figures of systematic reviews and meta-analyses, with the kind of their
    source: kept apart from the trials and never pooled again."""
    syn = ds.syntheses.merge(ds.studies[["study", "disease"]], on="study", how="left")
    kinds = dict(zip(ds.sources["source"], ds.sources["kind"], strict=True))
    syn["source_kind"] = [kinds.get(s) for s in syn["source"]]
    if disease:
        codes = Resolver(ds).disease_codes(disease)
        syn = syn[syn["disease"].map(lambda v: bool(codes & set(split_list(v)))).astype(bool)]
    cols = ["study", "disease", "measure", "population", "regimen", "value", "unit", "low", "high",
            "out_of", "bracket", "source", "source_kind", "note"]
    return syn[cols].reset_index(drop=True)


def published_pooled(ds: Dataset, studies: Iterable[str], measure: str) -> list[str]:
    """A line for every published pooled percentage of this measure in the given (synthesis)
    studies, to print beside a pool of the same question."""
    syn = ds.syntheses
    syn = syn[syn["study"].isin(set(studies)) & (syn["measure"] == measure) & (syn["unit"] == "percent")]
    kinds = dict(zip(ds.sources["source"], ds.sources["kind"], strict=True))
    out = []
    for r in row_tuples(syn):
        bracket = (f" ({_fmt(r.low)} to {_fmt(r.high)}%, {r.bracket})"
                   if value_or_none(r.low) is not None and value_or_none(r.high) is not None else "")
        out.append(f"published pooled {measure} of {r.study} [{r.source}, {kinds.get(r.source)}]: "
                   f"{_fmt(r.value)}%{bracket}; a synthesis of other studies, shown beside this pool "
                   "and never pooled again")
    return out


def _fmt(v) -> str:
    return f"{float(v):g}"
