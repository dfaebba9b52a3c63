"""Filter values read by a grammar: every spelling of a phase in use reads as the phase the data
stores, and selects exactly the studies and trials holding it; what the grammar cannot read is
refused, naming the value and the accepted forms."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpo1cli import data, query
from xpo1cli.query import PHASES, Resolver, UnknownName

from .conftest import DATA, run, run_csv


@pytest.fixture(scope="module")
def ds():
    return data.load()


def stored(ds, table: str) -> dict[str, str]:
    """id -> phase as the CSV holds it (the oracle: no grammar involved)."""
    frame = getattr(ds, table)
    key = "study" if table == "studies" else "trial"
    return {k: p for k, p in zip(frame[key], frame["phase"], strict=True) if isinstance(p, str)}


# every spelling in use in the sources, registries and the tool's own help, and what it means
SPELLINGS = {
    "1/2": ["1/2", "I/II", "I-II", "i/ii", "phase I/II", "Phase 1/2", "1-2", "1–2", "1—2", "1 / 2",
            "phase I/phase II", "PHASE I-II", "ph 1/2", "１/２", "1／2"],
    "1/3": ["1/3", "I/III", "phase 1–3"],
    "2/3": ["2/3", "II/III", "2-3", "phase II/III", "Phase 2/3", "2–3"],
    "1b": ["1b", "Ib", "IB", "phase 1b", "Phase 1b", "phase Ib", "ph1b"],
    "2b": ["2b", "IIb", "phase 2b", "Phase IIB"],
    "1": ["1", "I", "i", "phase 1", "Phase I", "phase-1", " phase  1 "],
    "2": ["2", "II", "phase 2", "Phase II", "ph. 2"],
    "3": ["3", "III", "iii", "phase 3", "Phase III", "PHASE 3", "phase iii"],
}


@pytest.mark.parametrize("phase,typed", [(p, t) for p, ts in SPELLINGS.items() for t in ts])
def test_every_spelling_reads_as_the_stored_phase(phase, typed):
    assert Resolver.phase(typed) == phase


@pytest.mark.parametrize("typed", ["I/II", "I-II", "i/ii", "phase I/II", "1/2", "1–2"])
def test_a_combined_phase_selects_only_studies_and_trials_of_that_phase(ds, typed):
    """The reproducer: 'I/II' was read as 'iii' (phase 3) and listed BOSTON and SeaLAND."""
    want = {s for s, p in stored(ds, "studies").items() if p == "1/2"}
    got = set(query.filter_studies(ds, query.Filters(phase=typed))["study"])
    assert got == want and len(want) >= 5
    assert "boston-lancet-2020" not in got


@pytest.mark.parametrize("typed,stages", [
    ("III", {"3", "1/3", "2/3"}), ("phase 3", {"3", "1/3", "2/3"}), ("2/3", {"2/3"}),
    ("1", {"1", "1b", "1/2", "1/3"}), ("Phase 1b", {"1b"}), ("2", {"2", "2b", "1/2", "2/3"}),
    ("IIb", {"2b"}),
])
def test_bare_stage_includes_every_phase_with_it_and_others_match_exactly(ds, typed, stages):
    want = {s for s, p in stored(ds, "studies").items() if p in stages}
    assert set(query.filter_studies(ds, query.Filters(phase=typed))["study"]) == want


def test_phases_are_the_schema_enum():
    schema = json.loads((DATA / "datapackage.json").read_text(encoding="utf-8"))
    for res in schema["resources"]:
        for f in res["schema"]["fields"]:
            if f["name"] == "phase":
                assert sorted(f["constraints"]["enum"]) == sorted(PHASES), res["name"]


@pytest.mark.parametrize("typed", ["12", "iii2", "I II", "1b/2", "2/1", "phase", "4", "IV", "0",
                                   "I//II", "1/2/3", "١", "phase 1 or 2", "iiii", "3b", "x"])
def test_what_the_grammar_cannot_read_or_no_study_holds_is_refused(typed):
    with pytest.raises(UnknownName) as err:
        Resolver.phase(typed)
    assert f"'{typed}'" in str(err.value) and "'I/II'" in str(err.value)


def test_cli_refuses_an_unreadable_phase_with_exit_2_naming_it():
    r = run("list", "--phase", "I/II/III", code=2)
    assert r.stderr.startswith("xpo1: unknown phase 'I/II/III'; known: 1, 1b, 1/2")


def test_cli_reads_roman_combined_phase():
    rows = run_csv("list", "--phase", "I/II")
    assert rows and {r["phase"] for r in rows} == {"1/2"}


@pytest.mark.parametrize("typed,design", [("randomized phase III", "randomized phase 3"),
                                          ("Randomized Phase 3", "randomized phase 3"),
                                          ("phase I/II", "phase 1/2")])
def test_design_reads_its_phase_by_the_same_grammar(ds, typed, design):
    got = query.filter_studies(ds, query.Filters(design=typed))
    assert len(got) and set(got["design"]) == {design}


@pytest.mark.parametrize("typed", ["rr", "R/R", "relapsed/refractory", "Relapsed-Refractory",
                                   "relapsed or refractory", "relapsed and/or refractory"])
def test_setting_spellings(typed):
    assert Resolver.setting(typed) == "relapsed/refractory"


# --- properties ---------------------------------------------------------------------------------

ROMAN = {"1": "I", "2": "II", "3": "III"}
ROMAN_VALUE = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
JOINS = ["/", "-", "–", "—", " / ", " - "]


@st.composite
def written(draw):
    """A stored phase as a person might type it: numerals, case, 'phase' and joins drawn."""
    phase = draw(st.sampled_from(PHASES))
    stages = []
    for stage in phase.split("/"):
        digit, sub = stage[0], stage[1:]
        num = draw(st.sampled_from([digit, ROMAN[digit]]))
        stages.append(num + draw(st.sampled_from([sub, sub.upper()])))
    text = draw(st.sampled_from(JOINS)).join(stages)
    prefix = draw(st.sampled_from(["", "phase ", "Phase ", "PHASE ", "ph ", "phase-"]))
    text = prefix + text
    return phase, draw(st.sampled_from([text, text.lower(), text.upper(), f"  {text} "]))


@settings(max_examples=200, deadline=None, database=None)
@given(written())
def test_property_any_written_form_reads_back(case):
    phase, text = case
    assert Resolver.phase(text) == phase


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="123456IiVvbBaph/-– .x", max_size=8))
def test_property_a_phase_is_read_as_a_stored_one_or_refused(text):
    try:
        got = Resolver.phase(text)
    except UnknownName:
        return
    assert got in PHASES
    # a reading never loses or invents a numeral: its stages are the numerals written, in order
    written_numerals = re.findall(r"[0-9]|[iv]+", text.casefold())
    assert [ROMAN_VALUE.get(n, n) for n in written_numerals] == [g.rstrip("ab") for g in got.split("/")]
