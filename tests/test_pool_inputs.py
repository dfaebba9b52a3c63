"""The vectorized choice of the cohorts to pool gives, row for row, what the rules give read one
row at a time.

`views.pool_inputs` chooses the cohorts to pool and the ones left out with whole-column
operations. The reference below is those rules as first written, a loop over studies and rows
(kept here, not in the package): on the bundled data (every poolable measure, with and without
control arms, by disease and for the arms of one regimen), on a synthetic dataset, on a dataset
made so that each rule decides somewhere, and on generated datasets (reports of one trial with
different roles, experimental and control arms, headline flags, missing counts, non-clinical
evidence, equal denominators, rows in any order) both must give the same frames: the same rows in
the same order, values, dtypes, reasons and attrs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpo1cli import catalogue, data, query, views
from xpo1cli.counts import CATEGORIES, COMPOSITES, outcome_table
from xpo1cli.query import UnknownName, arm_table, design
from xpo1cli.values import missing, row_tuples
from xpo1cli.views import CONTROL_GROUP, POOL_COLUMNS, ROLE_RANK, XPO1_GROUP, trial_key

from .conftest import synthetic

ROOT = Path(__file__).resolve().parent.parent
Dataset = data.Dataset
MEASURES = CATEGORIES + tuple(COMPOSITES)

# --- the reference: the rules read one row at a time --------------------------------------------


def ref_pool_inputs(ds: Dataset, studies: pd.DataFrame, measure: str, include_controls: bool = False,
                    matched: set[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohorts to pool for a measure and the ones left out, each with its reason.

    One population per trial: within a study the headline cohort (else the largest) stands for
    it and its subgroups are left out; of several reports of one trial the primary report
    stays (then the fuller one). Case reports, preclinical work and figures without a count are
    left out; control arms are left out, or with include_controls kept in a group of their own
    (`group`), never pooled with XPO1-inhibitor arms."""
    known = [m for m in MEASURES if m.casefold() == measure.strip().casefold()]
    if not known:
        raise UnknownName(f"cannot pool '{measure}'; known: {', '.join(MEASURES)}")
    measure = known[0]
    o = outcome_table(ds, studies=studies["study"], measures={measure})
    o = o[o["measure"] == measure]
    arms = {(c.study, c.cohort): c for c in row_tuples(arm_table(ds), index=False)}
    info = {r.study: r for r in row_tuples(studies, index=False)}
    candidates, excluded = [], []

    def leave(r, reason):
        excluded.append({"ref": r.ref, "study": r.study, "cohort": r.cohort, "source": r.source, "reason": reason})

    def no_count(r) -> str:  # a percentage alone says so, with its cohort's own n where there is one
        if missing(r.percent_reported) or not missing(r.denominator):
            return "no count and denominator"
        why = ("a percentage without a stated denominator, so no count (one is derived only over a stated "
               "denominator)")
        arm = arms.get((r.study, r.cohort))
        if arm is None or missing(arm.n):
            return why
        return f"{why}; the cohort's n = {int(arm.n)} is not stated as its denominator"

    def arm_of(r) -> str:
        return arms[(r.study, r.cohort)].arm if isinstance(arms[(r.study, r.cohort)].arm, str) else ""

    rows_by_study: dict[str, list] = {}
    for r in row_tuples(o, index=False):
        if matched is not None and (r.study, r.cohort) not in matched:
            continue
        rows_by_study.setdefault(r.study, []).append(r)
    for study, rows_ in rows_by_study.items():
        s = info[study]
        usable = [r for r in rows_ if not missing(r.count_used) and not missing(r.denominator)]
        for r in rows_:
            if missing(r.count_used) or missing(r.denominator):
                leave(r, no_count(r))
        if s.evidence_type != "clinical trial":
            for r in usable:
                leave(r, s.evidence_type)
            continue
        for r in [r for r in usable if not isinstance(arms[(r.study, r.cohort)].agent, str)]:
            if not include_controls:
                usable.remove(r)
                leave(r, "control arm, no XPO1 inhibitor (pool control arms apart with --include-controls)")
        if not usable:
            continue
        for arm in dict.fromkeys(arm_of(r) for r in usable):
            group = [r for r in usable if arm_of(r) == arm]
            group.sort(key=lambda r: (not arms[(r.study, r.cohort)].headline, -int(r.denominator)))
            keep, rest = group[0], group[1:]
            for r in rest:
                leave(r, f"overlaps the pooled population '{keep.cohort}' of the same study")
            candidates.append((trial_key(s) + (f" ({arm} arm)" if arm else ""), keep))
    by_trial: dict[str, list] = {}
    for trial, r in candidates:
        by_trial.setdefault(trial, []).append(r)
    rows = []
    for trial, reports in by_trial.items():
        # a report's whole (headline) population before another report's subgroup, then the role
        reports.sort(key=lambda r: (not arms[(r.study, r.cohort)].headline,
                                    ROLE_RANK.get(info[r.study].report_role, 9), -int(r.denominator)))
        r = reports[0]
        for other in reports[1:]:
            leave(other, f"another report of the same trial ({trial}); the {info[r.study].report_role} "
                  f"report {r.study} is pooled")
        s, a = info[r.study], arms[(r.study, r.cohort)]
        rows.append({"row": "cohort", "group": XPO1_GROUP if isinstance(a.agent, str) else CONTROL_GROUP,
                     "ref": r.ref, "study": r.study, "trial": trial, "report_role": s.report_role,
                     "source": r.source, "cohort": r.cohort, "cohort_label": a.label, "disease": s.disease,
                     "setting": s.setting, "design": design(s.evidence_type, s.phase, s.randomized),
                     "regimen": a.regimen, "arm": a.arm, "agent": a.agent,
                     "events": int(r.count_used), "n": int(r.denominator), "count_basis": r.count_basis})
    # a left-out figure of a pooled cohort, or of a trial pooled from another report, says so
    pooled_cohorts = {(r["study"], r["cohort"]): r for r in rows}
    pooled_trials: dict[str, str] = {}
    for _, r in candidates:
        if any(p["study"] == r.study and p["cohort"] == r.cohort for p in rows):
            pooled_trials.setdefault(trial_key(info[r.study]), r.study)
    for e in excluded:
        p = pooled_cohorts.get((e["study"], e["cohort"]))
        if p is not None:
            mark = "*" if p["count_basis"] != "reported" else ""
            e["reason"] += (f"; another report of the pooled cohort {e['study']}/{e['cohort']} "
                            f"({p['events']}{mark}/{p['n']} [{p['source']}])")
        elif not e["reason"].startswith("another report"):
            trial = trial_key(info[e["study"]])
            if pooled_trials.get(trial, e["study"]) != e["study"]:
                e["reason"] += f"; its trial {trial} is pooled from another report ({pooled_trials[trial]})"
    included = pd.DataFrame(rows, columns=POOL_COLUMNS)
    left = pd.DataFrame(excluded, columns=["ref", "study", "cohort", "source", "reason"])
    included.attrs["measure"] = measure
    included.attrs["published"] = catalogue.published_pooled(ds, studies["study"], measure)
    return included, left


# --- the comparisons -------------------------------------------------------------------------------


def cells(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Each column's cells as written, so None, NaN and NA are told apart."""
    return {c: [repr(v) for v in frame[c].tolist()] for c in frame.columns}


def same(ds: Dataset, studies: pd.DataFrame, measure: str, include_controls: bool = False,
         matched: set[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """pool_inputs is the row rules, whether it derives the outcome rows itself or is handed the
    caller's outcome_table of the studies (every measure)."""
    want = ref_pool_inputs(ds, studies, measure, include_controls=include_controls, matched=matched)
    every = outcome_table(ds, studies=studies["study"])
    for outcomes in (None, every):
        got = views.pool_inputs(ds, studies, measure, include_controls=include_controls, matched=matched,
                                outcomes=outcomes)
        for g, w in zip(got, want, strict=True):
            pd.testing.assert_frame_equal(g, w, check_dtype=True, check_index_type=True, check_column_type=True,
                                          check_exact=True)
            assert cells(g) == cells(w)
            assert g.attrs == w.attrs
    return want


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    return data.load()


@pytest.mark.parametrize("include_controls", [False, True])
def test_bundled_pool_inputs_are_the_row_rules(bundled, include_controls):
    studies = query.filter_studies(bundled, query.Filters())
    left = 0
    for measure in MEASURES:
        _, excluded = same(bundled, studies, measure, include_controls)
        left += len(excluded)
    assert left  # some cohorts are left out, so the order of the reasons is compared
    for disease in ("MM", "AML", "NHL"):
        some = query.filter_studies(bundled, query.Filters(disease=disease))
        for measure in ("ORR", "CR_CRi"):
            same(bundled, some, measure, include_controls)


def test_bundled_pool_inputs_of_one_regimens_arms_are_the_row_rules(bundled):
    f = query.Filters(regimen="SVd")
    studies = query.filter_studies(bundled, f)
    matched = query.filter_arms(bundled, f, studies)
    assert matched
    for measure in MEASURES:
        for include_controls in (False, True):
            same(bundled, studies, measure, include_controls, matched=matched)
    same(bundled, studies, " orr ", matched=set())


def test_an_unknown_measure_is_refused_alike(bundled):
    studies = query.filter_studies(bundled, query.Filters())
    for pool in (views.pool_inputs, ref_pool_inputs):
        with pytest.raises(UnknownName, match="cannot pool 'PFS'"):
            pool(bundled, studies, "PFS")


def test_a_synthetic_dataset_pools_as_the_row_rules_do(tmp_path):
    ds = synthetic(tmp_path / "synth", 60, seed=5)
    studies = query.filter_studies(ds, query.Filters())
    left = 0
    for measure in ("ORR", "CR", "PR", "DCR"):
        included, excluded = same(ds, studies, measure)
        assert len(included)
        left += len(excluded)
    assert left


# --- datasets built here ---------------------------------------------------------------------------

STUDY = {"source": "review", "ref": None, "trial": None, "report_role": "primary", "agent": "selinexor",
         "regimen": "SVd", "disease": "MM", "setting": "relapsed/refractory", "phase": "2", "randomized": False,
         "evidence_type": "clinical trial"}
COHORT = {"label": None, "parent": None, "arm": None, "regimen": None, "n": None, "headline": False, "section": "s",
          "source": "review"}
OUTCOME = {"measure": "ORR", "timepoint": None, "percent_reported": None, "section": "s", "source": "review"}
REGIMENS = [{"regimen": "SVd", "agent": "selinexor", "partners": "bortezomib"},
            {"regimen": "Sd", "agent": "selinexor", "partners": None},
            {"regimen": "Vd", "agent": None, "partners": "bortezomib"}]  # a control arm's regimen


def typed(rows: list[dict], columns: list[str], ints: tuple[str, ...] = (), bools: tuple[str, ...] = (),
          floats: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table typed as the loader types it: text as object, integers Int64, booleans boolean."""
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    for col in ints:
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    for col in bools:
        frame[col] = pd.array(frame[col].tolist(), dtype="boolean")
    for col in floats:
        frame[col] = frame[col].astype("float64")
    return frame


def dataset(studies: list[dict], cohorts: list[dict], outcomes: list[dict], published: bool = False) -> Dataset:
    """A dataset of these studies, cohorts and outcome rows (each over the defaults above); with
    `published`, a published pooled ORR in study s0."""
    studies = [{**STUDY, **r} for r in studies]
    cohorts = [{**COHORT, **r} for r in cohorts]
    outcomes = [{**OUTCOME, **r} for r in outcomes]
    synthesis = {"study": "s0", "measure": "ORR", "unit": "percent", "value": 40.0, "low": None, "high": None,
                 "bracket": None, "source": "review"}
    return Dataset(root=ROOT, descriptor={}, tables={
        "studies": typed(studies, ["study", *STUDY], ints=("ref",), bools=("randomized",)),
        "cohorts": typed(cohorts, ["study", "cohort", *COHORT], ints=("n",), bools=("headline",)),
        "outcomes": typed(outcomes, ["study", "cohort", "count", "denominator", *OUTCOME],
                          ints=("count", "denominator"), floats=("percent_reported",)),
        "regimens": typed(REGIMENS, ["regimen", "agent", "partners"]),
        "syntheses": typed([synthesis] if published else [], list(synthesis), floats=("value", "low", "high")),
        "sources": typed([{"source": "review", "kind": "review"}, {"source": "B1", "kind": "article"}],
                         ["source", "kind"]),
    })


def test_each_rule_on_a_dataset_made_for_it():
    """Each rule decides somewhere here: the headline cohort over a larger subgroup; equal
    denominators kept in row order; the primary report over a larger interim one; a trial known by
    its shared ref; an experimental and a control arm of one trial; a case report, and preclinical
    rows among which are a control arm's and figures without a count."""
    ds = dataset(
        [{"study": "s0", "trial": "T1", "report_role": "interim", "ref": 1},
         {"study": "s1", "trial": "T1", "report_role": "primary", "ref": 2},
         {"study": "s2", "ref": 3, "report_role": None, "phase": "3", "randomized": True},
         {"study": "s3", "ref": 3, "phase": None, "randomized": None},
         {"study": "s4", "trial": "", "evidence_type": "case report"},
         {"study": "s5", "trial": "RCT", "randomized": True, "phase": "3"},
         {"study": "s6", "evidence_type": "preclinical", "regimen": None, "agent": None}],
        [{"study": "s0", "cohort": "all", "headline": True}, {"study": "s0", "cohort": "sub", "parent": "all"},
         {"study": "s1", "cohort": "all"}, {"study": "s1", "cohort": "sub", "parent": "all", "headline": True},
         {"study": "s2", "cohort": "all", "headline": True}, {"study": "s3", "cohort": "all", "headline": True},
         {"study": "s4", "cohort": "all", "headline": True},
         {"study": "s5", "cohort": "sv", "arm": "experimental", "headline": True, "label": "SVd arm"},
         {"study": "s5", "cohort": "v", "arm": "control", "regimen": "Vd", "headline": True, "label": "Vd arm"},
         {"study": "s5", "cohort": "sv-old", "parent": "sv"}, {"study": "s5", "cohort": "v-old", "parent": "v"},
         {"study": "s6", "cohort": "all"}, {"study": "s6", "cohort": "dose", "parent": "all", "regimen": "Sd"}],
        [{"study": "s5", "cohort": "v", "count": 6, "denominator": 40},
         {"study": "s0", "cohort": "sub", "count": 3, "denominator": 30},
         {"study": "s0", "cohort": "all", "count": 5, "denominator": 20},
         {"study": "s0", "cohort": "all", "count": 6, "denominator": 20, "source": "B1"},
         {"study": "s6", "cohort": "all", "count": 1, "denominator": 4},
         {"study": "s6", "cohort": "dose", "count": None, "denominator": 4},
         {"study": "s1", "cohort": "all", "count": 4, "denominator": 40},
         {"study": "s1", "cohort": "sub", "count": 2, "denominator": 10},
         {"study": "s5", "cohort": "sv", "count": 12, "denominator": 40},
         {"study": "s5", "cohort": "v-old", "count": 2, "denominator": 10},
         {"study": "s5", "cohort": "sv-old", "count": 3, "denominator": None},
         {"study": "s5", "cohort": "sv-old", "count": 4, "denominator": 10, "source": "B1"},
         {"study": "s2", "cohort": "all", "count": 10, "denominator": 50},
         {"study": "s3", "cohort": "all", "count": 5, "denominator": 25},
         {"study": "s4", "cohort": "all", "count": 1, "denominator": 1},
         {"study": "s6", "cohort": "dose", "count": 2, "denominator": 4, "source": "B1"}],
        published=True)
    studies = ds.studies
    for include_controls in (False, True):
        included, left = same(ds, studies, "ORR", include_controls)
        controls = ["RCT (control arm)"] if include_controls else []
        assert included["trial"].tolist() == [*controls, "RCT (experimental arm)", "T1", "ref 3"]
        assert included["cohort"].tolist()[-3:] == ["sv", "sub", "all"]
        assert included["study"].tolist()[-2:] == ["s1", "s3"]
        assert left["reason"].tolist()[-2:] == [
            "another report of the same trial (T1); the primary report s1 is pooled",
            "another report of the same trial (ref 3); the primary report s3 is pooled"]
        assert included.attrs["published"]
    for matched in ({("s0", "all"), ("s1", "all"), ("s5", "v"), ("s6", "dose")}, set()):
        same(ds, studies, "ORR", matched=matched)
    same(ds, studies.iloc[::-1], "ORR")


def test_a_trials_figure_for_a_missing_cohort_fails_alike():
    """A dataset that skipped validation: a counted figure of a trial's cohort the cohorts table lacks
    fails on the same key (a case report's such figure is left out without looking the cohort up)."""
    ds = dataset([{"study": "s0", "evidence_type": "case report"}, {"study": "s1"}, {"study": "s2"}],
                 [{"study": "s1", "cohort": "all", "headline": True}],
                 [{"study": "s0", "cohort": "gone", "count": 1, "denominator": 2},
                  {"study": "s1", "cohort": "all", "count": 1, "denominator": 2},
                  {"study": "s2", "cohort": "all", "count": 1, "denominator": 2},
                  {"study": "s1", "cohort": "gone", "count": 1, "denominator": 2}])
    for pool in (views.pool_inputs, ref_pool_inputs):
        with pytest.raises(KeyError) as raised:
            pool(ds, ds.studies, "ORR")
        assert raised.value.args == (("s1", "gone"),)  # studies are read in order: s1 before s2
    same(ds, ds.studies.iloc[:1], "ORR")


COHORTS = ("all", "a", "b", "c")


@st.composite
def pool_cases(draw):
    """A small dataset (studies reporting one trial or another, cohorts with arms, regimens with and
    without an XPO1 inhibitor, outcome rows with and without figures, in any order), the studies to
    pool from (in any order; a repeated study row: the last stands) and the cohorts an arm filter
    matched (or None)."""
    pick = lambda *options: draw(st.sampled_from(options))  # noqa: E731
    studies, cohorts = [], []
    for i in range(pick(1, 2, 3, 4, 5)):
        study = f"s{i}"
        studies.append({
            "study": study, "ref": pick(1, 1, 2, None), "trial": pick("T1", "T1", "T2", None, ""),
            "report_role": pick("primary", "follow-up", "interim", "review summary", None, "abstract"),
            "agent": pick("selinexor", None), "regimen": pick("SVd", "SVd", "Vd", None),
            "disease": pick("MM", "AML", None), "setting": pick("relapsed/refractory", None),
            "phase": pick(None, "1", "1b/2", "2", "3"), "randomized": pick(None, True, False),
            "evidence_type": pick(*["clinical trial"] * 6, "case report", "preclinical")})
        # a cohort named twice: the last row stands, as for any repeated key
        for cohort in draw(st.lists(st.sampled_from(COHORTS), min_size=1, max_size=5)):
            cohorts.append({
                "study": study, "cohort": cohort, "label": pick(None, f"{cohort} patients"),
                "parent": None if cohort == "all" else pick(None, "all"),
                "arm": pick(None, None, None, "experimental", "control", ""),
                "regimen": pick(None, None, "SVd", "Vd", "Sd"), "headline": pick(True, True, False)})
    keys = list(dict.fromkeys((c["study"], c["cohort"]) for c in cohorts))
    outcomes = [{"study": study, "cohort": cohort, "measure": measure, "count": pick(0, 1, 2, 3, 5, None),
                 "denominator": pick(8, 8, 4, 12, 8, None), "source": pick("review", "B1")}
                for study, cohort in keys for measure in ("ORR", "CR", "PR") if pick(True, True, False)]
    ds = dataset(studies, cohorts, draw(st.permutations(outcomes)), published=draw(st.booleans()))
    chosen = ds.studies[draw(st.lists(st.booleans(), min_size=len(studies), max_size=len(studies)))]
    if chosen.empty:
        chosen = ds.studies
    chosen = chosen.iloc[draw(st.permutations(range(len(chosen))))]
    if pick(False, False, True):
        again = chosen.iloc[:1].copy()
        again["report_role"] = "interim"
        chosen = pd.concat([chosen, again])
    matched = draw(st.sets(st.sampled_from(keys))) if pick(False, False, True) else None
    return ds, chosen, matched


@settings(max_examples=60, deadline=None, database=None)
@given(case=pool_cases(), measure=st.sampled_from(["ORR", "CR"]), include_controls=st.booleans())
def test_generated_datasets_pool_as_the_row_rules_do(case, measure, include_controls):
    ds, studies, matched = case
    same(ds, studies, measure, include_controls, matched=matched)
