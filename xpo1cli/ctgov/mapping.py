"""One ClinicalTrials.gov record into the rows of every table: the registry tables, which keep each
posted figure as posted with its place in the record, and, for a record that can be placed, the
curated tables (see the package's docstring)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .records import (
    AE,
    FLOW,
    OM,
    RESULTS,
    SOURCE_PREFIX,
    Record,
    Terms,
    dig,
    dig_list,
    last_update,
    norm,
    number,
    whole,
)

RECORD_ADDRESS = "https://clinicaltrials.gov/study/{nct}"
SET_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")  # a result group's analysis set: 'Placebo (FAS)'.
NO_ARM = "the group is no protocol arm (nor a set of one arm's participants)"
NOT_XPO1 = ("the arm receives no XPO1 inhibitor and is no randomized control arm: the curated tables would "
            "read it as the study's XPO1 arm")
NO_XPO1_ARM = "no arm receives the XPO1 inhibitor (by the arms' interventions)"
MAX_COUNT = 10_000_000  # the dataset's largest count or n

PHASES = {  # the record's phases, as the schema's phase values; others stay as stated only
    ("PHASE1",): "1", ("PHASE2",): "2", ("PHASE3",): "3",
    ("PHASE1", "PHASE2"): "1/2", ("PHASE2", "PHASE3"): "2/3",
}
STATUSES = {  # overallStatus → the trials table's status, where the meaning is the same
    "NOT_YET_RECRUITING": "registered", "RECRUITING": "recruiting",
    "ACTIVE_NOT_RECRUITING": "active, not recruiting", "COMPLETED": "closed",
    "TERMINATED": "stopped early",
}
ARM_ROLES = {"EXPERIMENTAL": "experimental", "ACTIVE_COMPARATOR": "control",
             "PLACEBO_COMPARATOR": "control", "SHAM_COMPARATOR": "control", "NO_INTERVENTION": "control"}
STATISTICS = {"Hazard Ratio (HR)": "HR", "Odds Ratio (OR)": "OR"}
ORGAN_SYSTEMS = {  # MedDRA system organ class → adverse_events.category
    "blood and lymphatic system disorders": "haematological",
    "gastrointestinal disorders": "gastrointestinal",
    "infections and infestations": "infection",
    "nervous system disorders": "neurological and constitutional",
    "general disorders": "neurological and constitutional",
    "general disorders and administration site conditions": "neurological and constitutional",
    "hepatobiliary disorders": "hepatic",
    "metabolism and nutrition disorders": "metabolic",
    "eye disorders": "ocular",
    "renal and urinary disorders": "renal",
}
RESPONSES = {"ORR", "CR"}
MEDIANS = {"PFS", "OS", "DOR"}


@dataclass
class Rows:
    """The rows one record gives each table, and what could not be placed (with why)."""

    tables: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (heading, detail, NCT id)

    def add(self, table: str, row: dict) -> None:
        self.tables.setdefault(table, []).append(row)


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", norm(text)).strip("-")[:40] or "group"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _phrases(title: str, phrases: dict[str, str]) -> set[str]:
    """The measures whose phrases stand as whole words in an outcome's title."""
    words = f" {norm(re.sub(r'[()/,;:]', ' ', title))} "
    return {code for phrase, code in phrases.items() if f" {phrase} " in words}


@dataclass
class Group:
    """A result group as the curated tables hold it: a protocol arm (its own cohort), a set of one
    arm's participants ('Placebo (FAS)': a cohort under the arm), or no arm (cohort None: its
    figures stay in the registry tables, since whose they are would be a guess)."""

    cohort: str | None
    title: str
    role: str | None = None
    drugs: frozenset = frozenset()
    names: frozenset = frozenset()  # words that name the group in an analysis' description
    parent: str | None = None  # the arm's cohort, for a set of its participants
    why: str = NO_ARM  # why a group without a cohort is none


class Record2Rows:
    """The mapping of one record; `rows()` gives every table's rows. Kept as a class so the steps
    (groups, outcomes, analyses, events) share the record's groups without passing them around."""

    def __init__(self, rec: Record, terms: Terms):
        self.rec, self.terms = rec, terms
        self.nct, self.source = rec.nct, SOURCE_PREFIX + rec.nct
        self.out = Rows()
        proto = rec.data.get("protocolSection") or {}
        self.proto, self.results = proto, rec.data.get(RESULTS) or {}
        self.interventions = {}  # intervention name as the arms name it → drug (or None)
        for iv in dig_list(proto, "armsInterventionsModule", "interventions"):
            names = [iv.get("name") or "", *[n for n in iv.get("otherNames") or [] if isinstance(n, str)]]
            drug = next((terms.intervention[norm(n)] for n in names if norm(n) in terms.intervention), None)
            label = f"{str(iv.get('type') or '').title().replace('_', ' ')}: {iv.get('name')}"
            self.interventions[norm(label)] = (drug, names)
            self.interventions[norm(iv.get("name") or "")] = (drug, names)
        self.conditions = [c for c in dig_list(proto, "conditionsModule", "conditions") if isinstance(c, str)]
        self.diseases = sorted({terms.condition[norm(c)] for c in self.conditions if norm(c) in terms.condition})
        self.unmapped = [c for c in self.conditions if norm(c) not in terms.condition]
        self.agents = sorted({d for d, _ in self.interventions.values() if d} & terms.agents)
        self.placed = bool(self.agents and self.diseases)
        self.randomized = {"RANDOMIZED": True, "NON_RANDOMIZED": False}.get(
            dig(proto, "designModule", "designInfo", "allocation"))
        self.study = f"ctgov-{self.nct.lower()}" if self.placed else None
        self.trial = self._trial()
        self.groups: dict[str, Group] = {}
        self.taken: set[str] = set()
        self.seen: set[tuple[str, str]] = set()  # (cohort, measure) placed in outcomes

    def row_id(self, path: str) -> str:
        """A curated row's id from the figure's place: 'ctgov-nct01234567-' and the path's words and numbers."""
        return f"ctgov-{self.nct.lower()}-" + re.sub(r"[^a-z0-9]+", "-", path.lower())

    def _trial(self) -> str | None:
        """The curated trial this record is a report of: one whose registry ids name it."""
        return self.terms.trials.get(self.nct)

    def rows(self) -> Rows:
        self._groups()
        if self.placed and not any(g.cohort for g in self.arms.values()):
            self.placed, self.study, self.no_arm = False, None, True
        self._record()
        if self.placed:
            self._curated_header()
        self._measurements()
        self._analyses()
        self._events()
        return self.out

    # --- the record and its groups ---
    def _record(self) -> None:
        p, design = self.proto, dig(self.proto, "designModule", default={})
        status = dig(p, "statusModule", default={})
        phases = tuple(x for x in dig_list(design, "phases") if isinstance(x, str))
        listed = dig_list(p, "armsInterventionsModule", "interventions")
        ivs = [f"{iv.get('type', '')}: {iv.get('name', '')}" for iv in listed]
        unmatched_iv = [iv.get("name") for iv in listed
                        if self.interventions.get(norm(iv.get("name") or ""), (None,))[0] is None]
        why = [NO_XPO1_ARM] if getattr(self, "no_arm", False) else []
        if not self.diseases:
            why.append("no condition in the disease table")
        if not self.agents:
            why.append("no XPO1 inhibitor among the interventions")
        self.out.add("registry_records", {
            "nct_id": self.nct, "source": self.source if self.placed else None,
            "title": dig(p, "identificationModule", "briefTitle"),
            "acronym": dig(p, "identificationModule", "acronym"),
            "phases": ";".join(phases) or None,
            "allocation": dig(design, "designInfo", "allocation"),
            "masking": dig(design, "designInfo", "maskingInfo", "masking"),
            "enrollment": whole(dig(design, "enrollmentInfo", "count")),
            "enrollment_type": dig(design, "enrollmentInfo", "type"),
            "status": status.get("overallStatus"), "why_stopped": status.get("whyStopped"),
            "conditions": ";".join(self.conditions) or None,
            "diseases": ";".join(self.diseases) or None,
            "conditions_unmapped": ";".join(self.unmapped) or None,
            "interventions": ";".join(ivs) or None,
            "interventions_unmapped": ";".join(n for n in unmatched_iv if n) or None,
            "has_results": bool(self.rec.data.get("hasResults")) or bool(self.results),
            "last_update": last_update(self.rec) or None,
            "file": Path(self.rec.file).name + (f" {self.rec.at}" if self.rec.at else ""),
            "trial": self.trial, "study": self.study,
            "placed": "; ".join(why) if why else "placed in the curated tables",
        })
        for reason in why:
            self.out.notes.append(("kept in the registry tables only", reason, self.nct))
        for term in self.unmapped:
            self.out.notes.append(("conditions in no disease's names (add them with --terms)", term, self.nct))
        if not self.results:
            self.out.notes.append(("no results posted (design only)", "", self.nct))

    def _arms(self) -> dict[str, Group]:
        """The protocol's arms by their label, each with its role, drugs and the words naming it."""
        arms = {}
        for arm in dig_list(self.proto, "armsInterventionsModule", "armGroups"):
            label = str(arm.get("label") or "").strip()
            if not label or norm(label) in arms:
                continue
            found = [self.interventions.get(norm(n), (None, [n])) for n in arm.get("interventionNames") or []]
            arms[norm(label)] = Group(_slug(label, self.taken), label, ARM_ROLES.get(arm.get("type")),
                                      frozenset(d for d, _ in found if d),
                                      frozenset(norm(n) for _, ns in found for n in ns if n) | {norm(label)})
        if not arms and len(dig_list(self.results, "participantFlowModule", "groups")) == 1:
            # a single-group record without protocol arms: the group is the study's one arm
            only = dig_list(self.results, "participantFlowModule", "groups")[0]
            label = str(only.get("title") or only.get("id") or "all participants")
            drugs = frozenset(d for d, _ in self.interventions.values() if d)
            arms[norm(label)] = Group(_slug(label, self.taken), label, None, drugs, frozenset({norm(label)}))
        if len(arms) == 1 and not next(iter(arms.values())).drugs:  # one arm naming no intervention: all are its
            only = next(iter(arms.values()))
            only.drugs = frozenset(d for d, _ in self.interventions.values() if d)
        for arm in arms.values():
            # an arm without the XPO1 inhibitor is placed only as a randomized control: any other
            # cohort of the study takes the study's regimen and agent where it has none of its own
            if not arm.drugs & set(self.agents) and not (self.randomized and arm.role == "control"):
                arm.cohort, arm.why = None, NOT_XPO1
        return arms

    def group(self, title: str) -> Group:
        """The arm a result group is: the same title as a protocol arm, or the same before a
        closing bracket naming its analysis set ('Placebo (FAS)' is a set of arm 'Placebo')."""
        key = norm(title)
        if key not in self.groups:
            arm = self.arms.get(key)
            if arm is None and (base := self.arms.get(norm(SET_SUFFIX.sub("", title)))) is not None:
                arm = (Group(None, title, why=base.why) if base.cohort is None else
                       Group(_slug(title, self.taken), title, base.role, base.drugs, base.names | {key}, base.cohort))
            self.groups[key] = arm or Group(None, title)
        return self.groups[key]

    def _groups(self) -> None:
        self.arms = self._arms()
        flow = dig(self.results, "participantFlowModule", default={})
        started = {}  # flow group id → participants who started, and the place of that figure
        for period in dig_list(flow, "periods")[:1]:
            for m, milestone in enumerate(dig_list(period, "milestones")):
                if milestone.get("type") == "STARTED":
                    started = {a.get("groupId"): (whole(a.get("numSubjects")),
                                                  f"{FLOW}.periods[0].milestones[{m}].achievements[{i}]")
                               for i, a in enumerate(dig_list(milestone, "achievements"))}
        self.started = {}  # arm cohort → (started, place), where the flow gives the arm's own group
        for g in dig_list(flow, "groups"):
            grp = self.group(g.get("title") or g.get("id") or "group")
            if grp.cohort is not None and grp.parent is None:
                self.started[grp.cohort] = started.get(g.get("id"), (None, None))
        for om in dig_list(self.results, "outcomeMeasuresModule", "outcomeMeasures"):
            for g in dig_list(om, "groups"):
                self.group(g.get("title") or g.get("id") or "group")
        for g in dig_list(self.results, "adverseEventsModule", "eventGroups"):
            self.group(g.get("title") or g.get("id") or "group")

    def _regimen(self, drugs: frozenset) -> str | None:
        return self.terms.regimens.get(drugs) if drugs else None

    def _curated_header(self) -> None:
        p, design = self.proto, dig(self.proto, "designModule", default={})
        phases = tuple(x for x in dig_list(design, "phases") if isinstance(x, str))
        randomized = self.randomized
        title = dig(p, "identificationModule", "briefTitle") or self.nct
        updated = last_update(self.rec)
        self.out.add("sources", {
            "source": self.source, "kind": "registry results record (ClinicalTrials.gov)"
            if self.results else "registry record (ClinicalTrials.gov; no results posted)",
            "title": title, "address": RECORD_ADDRESS.format(nct=self.nct),
            # no source states the review's date; a registry record is none of the review's sources
            # and is read, as the packs' sources are, as evidence beside it
            "published_after_review": True})
        if self.trial is None:
            self.trial = self.nct
            self.out.add("trials", {
                "trial": self.nct, "name": dig(p, "identificationModule", "acronym") or title,
                "registry": self.nct, "randomized": randomized, "phase": PHASES.get(phases),
                "disease": ";".join(self.diseases),
                "status": STATUSES.get(dig(p, "statusModule", "overallStatus")), "source": self.source,
                "note": f"from its ClinicalTrials.gov record, last updated {updated}"})
        arms = [g for g in self.arms.values() if g.cohort is not None]
        exp = [g for g in arms if g.role == "experimental" and g.drugs & set(self.agents)]
        lead = exp[0] if len(exp) == 1 else next((g for g in arms if g.drugs & set(self.agents)), None)
        self.out.add("studies", {
            "study": self.study, "trial": self.trial, "source": self.source,
            "report": f"ClinicalTrials.gov record, last updated {updated}", "section": "ClinicalTrials.gov record",
            "agent": self.agents[0], "regimen": self._regimen(lead.drugs) if lead else None,
            "disease": ";".join(self.diseases),
            "phase": PHASES.get(phases), "randomized": randomized, "evidence_type": "clinical trial"})
        sets = [g for g in self.groups.values() if g.parent is not None]
        for grp in [*arms, *sets]:
            n, place = self.started.get(grp.cohort, (None, None)) if grp.parent is None else (None, None)
            n = n if n is None or n <= MAX_COUNT else None
            self.out.add("cohorts", {
                "study": self.study, "cohort": grp.cohort, "label": grp.title, "parent": grp.parent,
                "partition": "arm" if grp.parent is None and len(arms) > 1 else None,
                "arm": grp.role if randomized else None, "regimen": self._regimen(grp.drugs),
                "n": n, "headline": grp is lead or (lead is None and grp is arms[0]),
                "section": place if n is not None else "armsInterventionsModule.armGroups"
                if grp.parent is None else "result groups", "source": self.source})

    # --- outcome measures ---
    def _measure_of(self, om: dict) -> tuple[str | None, str]:
        """The curated measure an outcome measure is, or None with the reason."""
        codes = _phrases(om.get("title") or "", self.terms.outcome)
        if not codes:
            return None, "title names no known measure"
        if len(codes) > 1:
            return None, f"title names more than one measure ({', '.join(sorted(codes))})"
        code = codes.pop()
        param, unit = om.get("paramType"), norm(om.get("unitOfMeasure") or "")
        if len(dig_list(om, "classes")) != 1 or len(dig_list(om, "classes", 0, "categories")) != 1 \
                or dig(om, "classes", 0, "title") or dig(om, "classes", 0, "categories", 0, "title"):
            return None, "posted in classes or categories"
        if code in RESPONSES and (param == "COUNT_OF_PARTICIPANTS"
                                  or (param == "NUMBER" and ("percent" in unit or unit == "%"))):
            return code, ""
        if code in MEDIANS and param == "MEDIAN" and unit in ("months", "weeks"):
            return code, ""
        return None, f"{code} posted as {param or 'no parameter'} in {unit or 'no unit'}"

    def _flow(self) -> None:
        """Every milestone of the participant flow (STARTED, COMPLETED …) per group and period."""
        flow = dig(self.results, "participantFlowModule", default={})
        titles = {g.get("id"): g.get("title") or g.get("id") for g in dig_list(flow, "groups")}
        for p, period in enumerate(dig_list(flow, "periods")):
            for m, milestone in enumerate(dig_list(period, "milestones")):
                for a, got in enumerate(dig_list(milestone, "achievements")):
                    path = f"{FLOW}.periods[{p}].milestones[{m}].achievements[{a}]"
                    self.out.add("registry_measurements", {
                        "nct_id": self.nct, "path": path,
                        "outcome": f"participant flow: {milestone.get('type')}",
                        "time_frame": period.get("title"), "param_type": "COUNT_OF_PARTICIPANTS",
                        "unit": "Participants", "group_id": got.get("groupId"),
                        "group_title": titles.get(got.get("groupId"), got.get("groupId")),
                        "value": got.get("numSubjects"),
                        "placed_as": "cohorts n" if self.placed and p == 0 and milestone.get("type") == "STARTED"
                        else None,
                        "not_placed": None if self.placed and p == 0 and milestone.get("type") == "STARTED"
                        else "a participant-flow count (the first period's STARTED gives an arm's n)",
                        "last_update": last_update(self.rec) or None})

    def _measurements(self) -> None:
        self._flow()
        for i, om in enumerate(dig_list(self.results, "outcomeMeasuresModule", "outcomeMeasures")):
            measure, reason = self._measure_of(om)
            if not self.placed:
                measure, reason = None, None  # registry_records says why the record is not placed
            groups = {g.get("id"): g.get("title") or g.get("id") for g in dig_list(om, "groups")}
            denoms = {c.get("groupId"): c.get("value")
                      for d in dig_list(om, "denoms")[:1] for c in dig_list(d, "counts")}
            for c, cls in enumerate(dig_list(om, "classes")):
                for k, cat in enumerate(dig_list(cls, "categories")):
                    for m, meas in enumerate(dig_list(cat, "measurements")):
                        path = f"{OM}[{i}].classes[{c}].categories[{k}].measurements[{m}]"
                        title = groups.get(meas.get("groupId"), meas.get("groupId"))
                        placed, why = (self._outcome(om, measure, meas, title, denoms.get(meas.get("groupId")), path)
                                       if measure else (None, reason))
                        self.out.add("registry_measurements", {
                            "nct_id": self.nct, "path": path,
                            "outcome": om.get("title"), "outcome_type": om.get("type"),
                            "time_frame": om.get("timeFrame"), "param_type": om.get("paramType"),
                            "unit": om.get("unitOfMeasure"), "dispersion": om.get("dispersionType"),
                            "class_title": cls.get("title"), "category_title": cat.get("title"),
                            "group_id": meas.get("groupId"), "group_title": title,
                            "value": meas.get("value"), "lower": meas.get("lowerLimit"),
                            "upper": meas.get("upperLimit"), "spread": meas.get("spread"),
                            "denominator": denoms.get(meas.get("groupId")),
                            "placed_as": placed, "not_placed": why or None,
                            "last_update": last_update(self.rec) or None})

    def _outcome(self, om, measure, meas, title, denom, path) -> tuple[str | None, str]:
        value = number(meas.get("value"))
        if value is None:
            return None, f"value '{str(meas.get('value'))[:20]}' is not a number"
        grp = self.group(title)
        if grp.cohort is None:
            return None, grp.why
        if value < 0 or (measure in RESPONSES and om.get("paramType") != "COUNT_OF_PARTICIPANTS" and value > 100):
            return None, f"value {meas.get('value')} is outside what a {measure} can be"
        row = {"study": self.study, "cohort": grp.cohort, "measure": measure, "section": path,
               "source": self.source, "note": f"registry: {str(om.get('title'))[:80]}; "
               f"time frame: {str(om.get('timeFrame') or 'not stated')[:60]}"}
        if measure in RESPONSES:
            n = whole(denom)
            if n is None or not 1 <= n <= MAX_COUNT:
                return None, "no whole-number denominator of at least 1"
            if om.get("paramType") == "COUNT_OF_PARTICIPANTS":
                if whole(meas.get("value")) is None:
                    return None, "a count that is not a whole number"
                if whole(meas.get("value")) > n:
                    return None, f"count {meas.get('value')} is above its denominator {denom}"
                row.update(count=whole(meas.get("value")), denominator=n)
            else:
                row.update(percent_reported=value, denominator=n)
        else:
            unit = "median_months" if norm(om.get("unitOfMeasure") or "") == "months" else "median_weeks"
            row[unit] = value
            low, high = number(meas.get("lowerLimit")), number(meas.get("upperLimit"))
            if norm(om.get("dispersionType") or "") == "95% confidence interval" and _holds(value, low, high):
                row.update(ci_low=low, ci_high=high)
            elif norm(om.get("dispersionType") or "") == "95% confidence interval":
                row["note"] += "; its 95% interval does not hold the median: in the registry table only"
            elif meas.get("lowerLimit") or meas.get("upperLimit"):
                row["note"] += f"; interval ({om.get('dispersionType')}) in the registry table only"
        key = (grp.cohort, measure)
        if key in self.seen:
            return None, f"a second {measure} of this group in the record"
        self.seen.add(key)
        self.out.add("outcomes", row)
        return f"outcomes {measure}", ""

    # --- between-group analyses ---
    def _orientation(self, an: dict, a: Group, b: Group) -> bool | None:
        """True where the record's words say the estimate is a over b, False for b over a, None
        where they do not say (the registry does not structure it)."""
        text = norm(" ".join(str(an.get(k) or "") for k in ("estimateComment", "groupDescription")))

        def says(x: Group, y: Group) -> bool:
            return any(re.search(rf"(^|\W){re.escape(p)}\s*(/|vs\.?|versus|:)\s*{re.escape(q)}($|\W)", text)
                       for p in x.names for q in y.names if p and q)
        ab, ba = says(a, b), says(b, a)
        return ab if ab != ba else None

    def _analyses(self) -> None:
        for i, om in enumerate(dig_list(self.results, "outcomeMeasuresModule", "outcomeMeasures")):
            groups = {g.get("id"): g.get("title") or g.get("id") for g in dig_list(om, "groups")}
            codes = _phrases(om.get("title") or "", self.terms.outcome)
            code = next(iter(codes)) if len(codes) == 1 else None  # a ratio needs no class or unit rule
            for j, an in enumerate(dig_list(om, "analyses")):
                path = f"{OM}[{i}].analyses[{j}]"
                ids = [g for g in an.get("groupIds") or [] if isinstance(g, str)]
                placed, why = self._comparison(an, ids, groups, code, path)
                self.out.add("registry_analyses", {
                    "nct_id": self.nct, "path": path, "outcome": om.get("title"),
                    "group_ids": ";".join(ids) or None,
                    "group_titles": ";".join(str(groups.get(g, g)) for g in ids) or None,
                    "param_type": an.get("paramType"), "param_value": an.get("paramValue"),
                    "ci_pct": an.get("ciPctValue"), "ci_sides": an.get("ciNumSides"),
                    "ci_lower": an.get("ciLowerLimit"), "ci_upper": an.get("ciUpperLimit"),
                    "p_value": an.get("pValue"), "method": an.get("statisticalMethod"),
                    "non_inferiority": an.get("nonInferiorityType"),
                    "description": an.get("groupDescription") or an.get("estimateComment"),
                    "placed_as": placed, "not_placed": why or None, "last_update": last_update(self.rec) or None})

    def _comparison(self, an, ids, groups, measure, path) -> tuple[str | None, str]:
        statistic = STATISTICS.get(an.get("paramType"))
        if not self.placed:
            return None, None  # registry_records says why the record is not placed
        if statistic is None:
            return None, f"{an.get('paramType') or 'no parameter'}: not a hazard or odds ratio"
        if measure is None:
            return None, "outcome title names no known measure"
        if len(ids) != 2 or ids[0] not in groups or ids[1] not in groups:
            return None, "not exactly two of the outcome's groups"
        a, b = (self.group(groups[g]) for g in ids)
        if a.cohort is None or b.cohort is None:
            return None, (a if a.cohort is None else b).why
        if {a.role, b.role} != {"experimental", "control"}:
            return None, "the two groups are not an experimental and a control arm"
        if a.role == "control":
            a, b = b, a
        order = self._orientation(an, a, b)
        if order is None:
            return None, "the record's words do not say which arm is the numerator"
        if not order:
            return None, "the estimate is control over experimental; kept as posted here only"
        estimate = number(an.get("paramValue"))
        if estimate is None or estimate <= 0:
            return None, f"estimate '{str(an.get('paramValue'))[:20]}' is not a ratio (a number above 0)"
        p_value = number(an.get("pValue"))
        p_value = p_value if p_value is not None and 0 <= p_value <= 1 else None
        row = {"id": self.row_id(path), "study": self.study,
               "cohort_a": a.cohort, "cohort_b": b.cohort, "measure": measure, "statistic": statistic,
               "estimate": estimate, "p_text": an.get("pValue"), "p_value": p_value,
               "test": an.get("statisticalMethod"), "section": path, "source": self.source}
        level, sides = an.get("ciPctValue"), an.get("ciNumSides")
        low, high = number(an.get("ciLowerLimit")), number(an.get("ciUpperLimit"))
        if str(level).strip() == "95" and sides == "TWO_SIDED" and _holds(estimate, low, high):
            row.update(ci_low=low, ci_high=high, ci_level=95)  # the record states the level
        elif str(level).strip() == "95" and sides == "TWO_SIDED":
            row["note"] = "registry interval does not hold the estimate: in the registry table only"
        elif an.get("ciLowerLimit") or an.get("ciUpperLimit"):
            row["note"] = (f"registry interval is {level}% {str(sides or '').lower().replace('_', '-')}: "
                           "in the registry table only")
        self.out.add("comparisons", row)
        return f"comparisons {statistic}", ""

    # --- adverse events ---
    def _events(self) -> None:
        """Adverse events in three tables, so each posted word is written once: the event groups
        with their totals, the events (term, organ system), and each event's count per group."""
        ae = dig(self.results, "adverseEventsModule", default={})
        updated = last_update(self.rec) or None
        titles = {g.get("id"): g.get("title") or g.get("id") for g in dig_list(ae, "eventGroups")}
        for i, g in enumerate(dig_list(ae, "eventGroups")):
            self.out.add("registry_event_groups", {
                "nct_id": self.nct, "path": f"{AE}.eventGroups[{i}]", "group_id": g.get("id"),
                "title": g.get("title"),
                **{f"{k}_{w}": whole(g.get(f"{k}Num{c}")) for k in ("deaths", "serious", "other")
                   for w, c in (("affected", "Affected"), ("at_risk", "AtRisk"))},
                "last_update": updated})
        for kind in ("seriousEvents", "otherEvents"):
            for i, ev in enumerate(dig_list(ae, kind)):
                self.out.add("registry_events", {
                    "nct_id": self.nct, "path": f"{AE}.{kind}[{i}]",
                    "kind": "serious" if kind == "seriousEvents" else "other",
                    "term": ev.get("term"), "organ_system": ev.get("organSystem"),
                    "vocabulary": ev.get("sourceVocabulary"), "assessment": ev.get("assessmentType"),
                    "last_update": updated})
                for k, st in enumerate(dig_list(ev, "stats")):
                    path = f"{AE}.{kind}[{i}].stats[{k}]"
                    placed, why = (self._event(kind, ev, st, titles.get(st.get("groupId"), st.get("groupId")), path)
                                   if self.placed else (None, None))  # registry_records says why not
                    self.out.add("registry_event_counts", {
                        "nct_id": self.nct, "path": path, "group_id": st.get("groupId"),
                        "affected": whole(st.get("numAffected")), "at_risk": whole(st.get("numAtRisk")),
                        "events": whole(st.get("numEvents")), "placed_as": placed, "not_placed": why or None,
                        "last_update": updated})

    def _event(self, kind, ev, st, title, path) -> tuple[str | None, str]:
        category = ORGAN_SYSTEMS.get(norm(ev.get("organSystem") or ""))
        if category is None:
            return None, f"organ system '{str(ev.get('organSystem'))[:40]}' has no category here"
        count, n = whole(st.get("numAffected")), whole(st.get("numAtRisk"))
        if count is None or n is None:
            return None, "affected or at-risk count is not a whole number"
        if not 1 <= n <= MAX_COUNT or count > n:
            return None, f"{count} affected of {n} at risk is no proportion"
        grp = self.group(title)
        if grp.cohort is None:
            return None, grp.why
        drugs = sorted(grp.drugs)
        agent = next((d for d in drugs if d in self.agents), drugs[0] if drugs else None)
        if agent is None:
            return None, "the group's drugs are not known"
        self.out.add("adverse_events", {
            "id": self.row_id(path),
            "study": self.study, "cohort": grp.cohort, "agent": agent, "kind": "adverse_event",
            "category": category, "term": str(ev.get("term") or "").strip().lower(), "count": count, "n": n,
            "statement": ("serious adverse event" if kind == "seriousEvents" else
                          "other adverse event above the record's reporting threshold") + "; grade not stated",
            "section": path, "source": self.source})
        return "adverse_events", ""


def _holds(value: float, low: float | None, high: float | None) -> bool:
    """Whether an interval (either limit may be missing: 'NA' for not reached) holds its estimate,
    at or above 0: only such an interval is placed beside it."""
    return (low is None or 0 <= low <= value) and (high is None or value <= high)


def record_rows(rec: Record, terms: Terms) -> Rows:
    """Every table's rows from one record (see the package's docstring)."""
    return Record2Rows(rec, terms).rows()
