"""Selection: the filter vocabulary, name resolution (Resolver), the study and arm tables and the
filters over them.

No I/O and no printing here: the CLI turns LookupError into a usage error, and render prints.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .counts import column
from .data import Dataset, per_dataset
from .values import (
    LIST_SEP,
    key_codes,
    last_match,
    missing,
    per_distinct,
    row_tuples,
    split_list,
    value_or_none,
)

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
