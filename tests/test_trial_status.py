"""Trial status only as a source states it: the status column is the data's own, never inferred;
whether a trial has reported is derived from the reports in the data, apart from its status."""

from __future__ import annotations

import pytest

from xpo1cli.catalogue import NOT_REPORTED, REPORTED, TRIAL_STATUSES, result_reports, trials_table
from xpo1cli.data import load
from xpo1cli.present import NO_STATUS, trials_view

from .conftest import run, run_csv


@pytest.fixture(scope="module")
def ds():
    return load()


def test_the_status_shown_is_the_stated_one_for_every_trial(ds):
    frame = trials_table(ds)
    stated = dict(zip(ds.trials["trial"], ds.trials["status"], strict=True))
    for trial, status in zip(frame["trial"], frame["status"], strict=True):
        assert (status if isinstance(status, str) else None) == (
            stated[trial] if isinstance(stated[trial], str) else None), trial


def test_a_trial_has_reported_when_one_of_its_reports_gives_results(ds):
    frame = trials_table(ds).set_index("trial")
    reports = result_reports(ds)
    for trial, studies in ds.studies.groupby("trial"):
        want = REPORTED if set(studies["study"]) & reports else NOT_REPORTED
        assert frame.at[trial, "results"] == want, trial
    # abstracts whose stored copies end before the results still report the trial
    assert frame.at["STOMP", "results"] == REPORTED and frame.at["STOMP", "figures"] == "none stored"
    assert frame.at["SEL-IA-PH2", "results"] == REPORTED
    assert frame.at["XPORT-MM-031", "results"] == NOT_REPORTED  # a registry listing only


def test_ongoing_holds_stated_statuses_only_and_never_a_trial_without_one(ds):
    ongoing = trials_table(ds, "ongoing")
    assert len(ongoing) and ongoing["status"].isin(["registered", "recruiting", "active, not recruiting"]).all()
    ended = trials_table(ds, "ended")
    assert set(ended["status"]) <= {"closed", "stopped early"} and "SEALAND" in set(ended["trial"])
    assert not set(ongoing["trial"]) & {"STOMP", "SEL-IA-PH2", "SEL-SORA-PH12", "BENCH", "SENTRY-2"}


def test_reported_and_unreported_split_the_trials(ds):
    everything = set(trials_table(ds)["trial"])
    reported, unreported = set(trials_table(ds, "reported")["trial"]), set(trials_table(ds, "unreported")["trial"])
    assert reported | unreported == everything and not reported & unreported
    assert set(trials_table(ds, "results")["trial"]) == reported  # the earlier name still answers


def test_a_reader_sees_that_no_source_states_a_status(ds):
    frame = trials_table(ds)
    shown = trials_view(frame).set_index("trial")["status"]
    assert shown["BENCH"] == NO_STATUS and shown["SEALAND"] == "stopped early"
    plain = run("trials", "--disease", "MM", "--format", "plain").stdout
    assert NO_STATUS in plain and "never inferred" in plain
    rows = {r["trial"]: r for r in run_csv("trials", "--disease", "MM")}
    assert rows["BENCH"]["status"] == ""  # machine formats: missing stays empty


def test_an_unknown_status_is_refused_with_the_known_ones():
    err = run("trials", "--status", "finished", code=2).stderr
    assert "unknown status" in err and all(s in err for s in TRIAL_STATUSES)


def test_the_cli_completes_the_status_filters_the_domain_knows():
    from xpo1cli.cli.reference import TRIAL_FILTERS

    assert TRIAL_FILTERS == TRIAL_STATUSES
