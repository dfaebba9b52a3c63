"""The brief's labels a clinician reads beside the figures: what its evidence dates from, one row per
stated conflict, what a printed n counts, what a population is not, where safety figures are absent,
which outcomes a randomized trial leaves without a between-arm statistic."""

from __future__ import annotations

import pytest

from xpo1cli.brief import build_brief
from xpo1cli.brief_render import evidence_text, markdown
from xpo1cli.catalogue import dates_in
from xpo1cli.data import load
from xpo1cli.query import Filters

from .conftest import DATA


@pytest.fixture(scope="module")
def ds():
    return load(DATA)


@pytest.fixture(scope="module")
def briefs(ds):
    cache: dict = {}

    def brief(disease: str):
        if disease not in cache:
            cache[disease] = build_brief(ds, Filters(disease=disease))
        return cache[disease]
    return brief


# --- 1 evidence as of -------------------------------------------------------------------------------


def test_mds_evidence_dates_from_the_latest_source_it_cites_not_a_protocol_page(briefs):
    b = briefs("MDS")
    assert "G12" in {c.source for c in b.citations}  # the conflict row cites it, so the source list does
    text = evidence_text(b)
    assert text.startswith("Evidence as of 20 July 2022:") and "G12: announcement date" in text
    assert "2016" not in text  # N8's protocol update is older


def test_mf_evidence_dates_from_the_data_cutoff_the_brief_prints(briefs):
    text = evidence_text(briefs("MF"))
    assert text.startswith("Evidence as of 1 August 2023:") and "N1: data cut-off" in text


def test_a_date_is_read_with_its_kind_and_never_from_an_identifier_or_a_plan():
    assert [(d.text, d.kind) for d in dates_in("company press release, 2017-03-02 (interim)", "X", "d")] \
        == [("2 March 2017", "press-release date")]
    assert [(d.text, d.kind) for d in dates_in("interview report dated 16 October 2024", "X", "d")] \
        == [("16 October 2024", "date of the report")]
    assert dates_in("EudraCT 2020-000605-84", "X", "d") == []  # a registry number
    assert dates_in("recruiting; expected completion March 2028", "X", "d") == []  # ahead, not evidence
    assert dates_in("https://doi.org/10.1038/s41375-022-01657-3", "X", "d") == []


def test_a_users_dataset_without_dates_says_so(ds):
    import copy

    bare = copy.copy(ds)
    bare.sources = ds.sources.assign(kind="article", title="t", citation=None)
    for table in ("studies", "outcomes", "cohorts", "approvals"):
        frame = getattr(ds, table)
        col = {"studies": "report", "outcomes": "timepoint", "cohorts": "label", "approvals": "note"}[table]
        setattr(bare, table, frame.assign(**{col: None}))
    b = build_brief(bare, Filters(disease="MF"))
    assert "no source of this brief states a date" in evidence_text(b)
    assert evidence_text(b) in markdown(b)
