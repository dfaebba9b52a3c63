"""The certainty signals' stated rules of a brief, and the names of its measures."""

from __future__ import annotations

import re

from .findings import ALPHA

# --- certainty signals: the stated rules ----------------------------------------------------------

LEVELS = ("very low", "low", "moderate", "high")
CERTAINTY_LABEL = "certainty signals from stated rules, not a formal GRADE assessment"
IMPRECISE_WIDTH = 30.0  # percentage points
IMPRECISE_N = 100  # patients
INCONSISTENT_I2 = 50.0  # percent
INCONSISTENT_K = 3  # cohorts
COHERENT_K = 2  # other clear results of one trial in the same direction that stand for a missing interval
OIS_POWER = 0.8  # the optimal information size: power of a two-sided test at findings.ALPHA
# source kinds (sources.kind, free text) that decide the reporting rule: a conference abstract or
# report, a news report or a press release; a peer-reviewed journal's abstract is none of these
LOW_REPORTING_KINDS = {"press release": "a press release", "news": "a news report",
                       "conference": "a conference abstract or report"}
KNHA_MAX_K = 3  # pools of this many cohorts or fewer use Knapp–Hartung intervals (stats advises it)
OUTCOME_CI_LEVEL = 0.95  # outcomes.ci_low and ci_high are 95% limits as reported (the schema says so)
ABSOLUTE_PER = 1000  # anticipated absolute effects: patients per this many
NOT_ESTIMABLE = "not estimable"  # a row with neither estimate nor p-value: never rated
# the dataset's settings in words (studies.setting): 'mixed' is a population of both
SETTING_WORDS = {"mixed": "newly diagnosed and relapsed/refractory", "newly diagnosed": "newly diagnosed",
                 "relapsed/refractory": "relapsed/refractory"}
RULES: tuple[tuple[str, str], ...] = (
    ("start", "Start high for a comparison within a randomized trial; start low for rates and medians "
              "from single-arm studies or single arms."),
    ("imprecision", f"Down one for imprecision: an interval wider than {IMPRECISE_WIDTH:g} percentage "
                    f"points, an interval of a ratio that includes no effect (1), fewer than {IMPRECISE_N} "
                    "patients, fewer patients than the optimal information size for the difference two arms' "
                    f"rates show (two-sided α {ALPHA:g}, power {100 * OIS_POWER:g}%), a pool of two cohorts, "
                    "or no interval reported. "
                    "A between-arm p-value without an interval is not rated down for it where the result is clear "
                    "and either each arm reports its own interval or at least "
                    f"{COHERENT_K} other results of the same trial are clear in the same direction."),
    ("inconsistency", f"Down one for inconsistency: I² over {INCONSISTENT_I2:g}% with "
                      f"{INCONSISTENT_K} or more cohorts."),
    ("indirectness", "Down one for indirectness: mixed diseases (a cohort of several diseases, or "
                     "cohorts of different diseases) or mixed populations (a mixed setting, or cohorts "
                     "of different settings). A randomized comparison is not rated down for the population "
                     "its own trial enrolled (both arms share it); the row names that population. In a "
                     "disease's brief, a trial whose population mixes that disease with another (listed "
                     "first) and states no count of it is rated down one (its share not reported)."),
    ("risk of bias", "Not assessed: the data hold no masking, allocation concealment or attrition details, "
                     "so no rating here says anything about risk of bias."),
    ("reporting", "Down one for reporting: an audit finding on a figure used, or figures only from "
                  "sources whose kind is a conference abstract or report, a news report or a press release "
                  "(a peer-reviewed journal's abstract is not)."),
    ("subgroup", "A subgroup result is rated down one for credibility (one trial, no test of interaction in "
                 "the data) and never above its trial's overall result for the same outcome."),
    ("not estimable", "A row with neither an estimate nor a p-value is not estimable and is not rated."),
)
MEASURE_NAMES = {"ORR": "ORR", "CR_CRi": "CR/CRi", "PFS": "PFS", "OS": "OS", "DOR": "duration of response",
                 "TTR": "time to response", "FU": "follow-up", "EFS_rate": "EFS rate", "OS_rate": "OS rate",
                 "CR_or_better": "≥CR", "TSS50": "TSS50 rate",
                 "TSS50_sustained": "share of TSS50 responders still responding at the cutoff",
                 "DOR_rate": "share of responders still in response"}
_GRADE3 = re.compile(r"^(≥\s*[3-5]|[3-5](\s*[-–]\s*[3-5])?)$")


# measured in responders only: their participants are the responders, never the whole cohort
RESPONDER_ONLY = frozenset({"DOR", "TTR"})


def measure_name(measure: str) -> str:
    return MEASURE_NAMES.get(measure, measure)


def grade3(grade) -> bool:
    """Grade 3 or higher as the dataset writes it: '3-4', '≥3', '4' (not 'all' or '≥2')."""
    return isinstance(grade, str) and bool(_GRADE3.match(grade.strip()))
