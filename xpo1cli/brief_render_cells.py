"""The pieces of a brief as the reader sees them: its section titles and tables, and its cells (a
rate, a median, an interval, an arm, a between-arm statistic and its direction), each as one string."""

from __future__ import annotations

from dataclasses import dataclass, field

from .brief_findings import low_reporting_kind, press_release
from .brief_model import Finding, Forest, Median, Rate
from .brief_rules import LOW_REPORTING_KINDS, OUTCOME_CI_LEVEL, measure_name
from .brief_values import figure, where_text_of
from .findings import CONTROL as FAVOURS_CONTROL
from .findings import NEITHER, STATED, ArmFigure, Effect
from .indirect_brief import IndirectRow
from .indirect_present import _as_reported, _ratio, favours
from .pooling import PI_MIN_K
from .render import level_text
from .values import DERIVED_MARK, MISSING, as_printed, derived

CONTROL = "control arm (no XPO1 inhibitor)"
SOF_TITLE = "Summary of findings with certainty signals"
INDIRECT_TITLE = "Indirect comparisons (across trials)"
SOURCES_TITLE = "Sources"
SECTION_TITLES = ("Bottom line", "Randomized evidence", "Response evidence by regimen", "Survival", "Harms",
                  SOF_TITLE, INDIRECT_TITLE, "What is not known", SOURCES_TITLE)


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    kind: str = ""  # a class name for the HTML page
    row_kinds: list[str] = field(default_factory=list)  # per row: control, pooled, cert-low, ... or ""


@dataclass
class Section:
    number: int
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # a numbered or bulleted list
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (measure, caption) of forest plots
    notes: list[str] = field(default_factory=list)


# --- cells ----------------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    """A computed percentage: one decimal."""
    return "–" if value is None else f"{value:.1f}"


def ratio(value, decimals) -> str:
    return as_printed(value, decimals)


def forest_caption(fo: Forest) -> str:
    """What the forest plot shows: each regimen's pooled estimate (two or more cohorts), its
    heterogeneity and the pool's cautions; no estimate across regimens is drawn or stated."""
    summary, lv = fo.summary, level_text(fo.level)
    parts = []
    for name, fit in summary["subgroups"].items():
        if fit["k"] < 2:
            continue
        text = (f"{name}: {pct(fit['estimate'])}% ({lv} CI {pct(fit['ci_low'])}–{pct(fit['ci_high'])}")
        if fit.get("pi_low") is not None and fit["k"] >= PI_MIN_K:
            text += f"; {lv} prediction interval {pct(fit['pi_low'])}–{pct(fit['pi_high'])}"
        text += f"), k = {fit['k']}, tau² = {fit['tau2']:.3f}, I² = {pct(fit['i2'])}%"
        parts.append(text)
    singles = [name for name, fit in summary["subgroups"].items() if fit["k"] < 2]
    test = "Knapp–Hartung t intervals" if summary.get("test") == "knha" or any(
        fit.get("test") == "knha" for fit in summary["subgroups"].values()) else "z intervals"
    text = (f"Random effects within each regimen (DerSimonian–Laird, logit scale, {test}; each its own "
            "tau²): " + ("; ".join(parts) if parts else "no regimen has two cohorts") + ".")
    if singles:
        text += f" One cohort, not pooled: {', '.join(singles)}."
    cautions = sorted({c for name, fit in summary["subgroups"].items() if fit["k"] >= 2
                       for c in fit.get("cautions") or []})
    if cautions:
        text += " Caution: " + "; ".join(cautions) + "."
    return text


def role_text(role: str | None, agent: str | None) -> str:
    if agent is None:
        return CONTROL
    return {"experimental": "experimental arm", "control": CONTROL}.get(role or "", "XPO1-inhibitor cohort")


def at_text(timepoint: str | None, sep: str = " ") -> str:
    """' at 18 months' (or ', at week 24' after a label); nothing without a time point."""
    return f"{sep}at {timepoint}" if timepoint else ""


def where_text(ref, study: str, trial: str | None = None) -> str:
    """A report by its review reference and id; with its trial where the table shows several of its reports."""
    report = f"ref {ref} ({study})" if ref is not None else study
    return f"{trial}: {report}" if trial else report


def kind_note(x: Rate | Median) -> str:
    """What a figure from a press release or a news report is, said beside it: '' for any other source."""
    return (f"from a {x.source_kind.removeprefix('a ')}"
            if press_release(x.source_kind) or low_reporting_kind(x.source_kind) == LOW_REPORTING_KINDS["news"]
            else "")


def share_note(share, disease: str) -> str:
    """Why a mixed cohort's figure is not the disease's evidence: its share, or who the cohort is."""
    if share.patients is not None:
        return f"not {disease} evidence: {share.patients} of {share.total} patients had {disease} [{share.source}]"
    return (f"not {disease} evidence: the number with {disease} is not stated; "
            f"{share.population or 'population not stated'} [{share.source}]")


def rate_text(r: Rate) -> str:
    """'25/40 (62.5%)' from a count (marked * when derived here), or '76.4% (no count printed)'."""
    if r.events is not None and r.n:
        mark = DERIVED_MARK if derived(r.basis) else ""
        return f"{r.events}{mark}/{r.n} ({pct(r.percent)}%)"
    if r.percent is not None:
        return f"{figure(r.percent)}% (no count printed)"
    return MISSING


def interval_text(lo, hi, computed: bool = True, suffix: str = "") -> str:
    if lo is None or hi is None:
        return MISSING
    show = pct if computed else figure
    return f"{show(lo)}–{show(hi)}{suffix}"


def rate_interval(r: Rate, level: float) -> str:
    if r.ci_basis == "exact":
        derived_from = ", computed from a derived count" if r.basis == "from percentage" else ""
        return f"{interval_text(r.ci_low, r.ci_high)} ({level_text(level)} exact{derived_from})"
    if r.ci_basis == "as reported":
        return f"{interval_text(r.ci_low, r.ci_high, computed=False)} (as reported)"
    return MISSING


def quantity(value: float, unit: str) -> str:
    """A figure with its unit, singular for exactly 1: '1 month', '2.7 months'."""
    return f"{figure(value)} {unit[:-1] if value == 1 and unit.endswith('s') else unit}"


def median_text(m: Median) -> str:
    return quantity(m.median, m.unit) if m.median is not None else MISSING


def readings_text(r: Rate) -> str:
    """A rate another report of the trial gives differently for the same population: each reading as
    its source prints it, and that the count is unresolved ('' where no report differs)."""
    if not r.readings:
        return ""

    def reading(x: Rate) -> str:
        who = where_text_of(x.ref, x.study) + f" [{x.source}]"
        printed = x.percent_reported
        if x.events is not None and printed is not None and round(x.percent or 0) != round(printed):
            return f"{who} prints {x.events} ({figure(x.percent_reported)}%) of {x.n}"
        return f"{who} gives " + (f"{x.events}/{x.n} ({figure(x.percent)}%)" if x.events is not None
                                  else f"{figure(x.percent)}%")
    values = sorted(x.percent for x in (r, *r.readings) if x.percent is not None)
    spread = f" ({figure(values[0])}–{figure(values[-1])}%)" if len(values) > 1 and values[0] != values[-1] else ""
    return "reports differ: " + "; ".join(reading(x) for x in (r, *r.readings)) + f"; the count is unresolved{spread}"


def disputed_text(m: Median) -> str:
    """Another report of the trial gives this median's figure for another population (a stated
    conflict): said beside the figure, '' where none does."""
    return "; ".join(f"{where_text_of(x.ref, x.study)} [{x.source}] gives {median_text(x)} as the median of "
                     f"{x.label}: population disputed" for x in m.disputed)


def missing_limit(note: str | None) -> str:
    """What a one-sided interval's other limit is: 'not evaluable' where the figure's note says the
    source calls it so (a median's upper limit not reached), else 'not reported'."""
    return "not evaluable" if note and "not evaluable" in note.casefold() else "not reported"


def spread_text(m: Median) -> str:
    """The CI (95%: outcomes hold 95% limits) and range as reported, in the median's unit; a
    one-sided CI says what its other limit is."""
    parts = []
    lv = level_text(OUTCOME_CI_LEVEL)
    if m.ci_low is not None or m.ci_high is not None:
        if m.ci_low is not None and m.ci_high is not None:
            parts.append(f"{lv} CI {figure(m.ci_low)}–{figure(m.ci_high)} {m.unit}")
        elif m.ci_low is not None:
            parts.append(f"{lv} CI lower limit {figure(m.ci_low)} {m.unit}, upper {missing_limit(m.note)}")
        else:
            parts.append(f"{lv} CI upper limit {figure(m.ci_high)} {m.unit}, lower {missing_limit(m.note)}")
    if m.range_low is not None and m.range_high is not None:
        parts.append(f"range {figure(m.range_low)}–{figure(m.range_high)} {m.unit}")
    elif m.range_high is not None:  # one end of the range printed: say which
        parts.append(f"longest {quantity(m.range_high, m.unit)}")
    elif m.range_low is not None:
        parts.append(f"shortest {quantity(m.range_low, m.unit)}")
    return "; ".join(parts) or MISSING


def estimate_text(f: Finding) -> str:
    if f.effect is not None:
        e = f.effect
        return (f"{statistic_text(e)}; {arm_figure_text(e.experimental)} with {arm_name(e.experimental)} vs "
                f"{arm_figure_text(e.control)} with {arm_name(e.control)}; {direction_text(e)}")
    if f.kind in ("ratio", "p only"):
        if f.statistic == "p":
            return f"p = {f.p_text}" if f.p_text else MISSING
        p = f", p = {f.p_text}" if f.p_text else ""
        ci = ratio_interval(f.ci_low, f.ci_high, f.decimals, None)
        return f"{f.statistic} {ratio(f.estimate, f.decimals)}{ci}{p}"
    lv = level_text(f.level) + " " if f.level is not None else ""
    if f.kind == "median":
        ci = ""
        note = "; ".join(f.notes)
        if f.ci_low is not None and f.ci_high is not None:
            ci = f" ({lv}CI {figure(f.ci_low)}–{figure(f.ci_high)})"
        elif f.ci_low is not None or f.ci_high is not None:
            ci = (f" ({lv}CI lower limit {figure(f.ci_low)}, upper {missing_limit(note)})" if f.ci_low is not None
                  else f" ({lv}CI upper limit {figure(f.ci_high)}, lower {missing_limit(note)})")
        return f"{figure(f.estimate)} {f.unit}{ci}"
    computed = f.kind in ("pooled proportion", "proportion")
    show = pct if computed else figure
    text = f"{show(f.estimate)}%"
    if f.ci_low is not None and f.ci_high is not None:
        text += f" ({lv}CI {interval_text(f.ci_low, f.ci_high, computed)}"
        if f.pi_low is not None and f.pi_high is not None:
            text += f"; PI {interval_text(f.pi_low, f.pi_high)}"
        text += ")"
    return text + (" pooled" if f.kind == "pooled proportion" else "")


def outcome_text(e: Effect) -> str:
    return measure_name(e.measure) + at_text(e.timepoint)


def arm_name(a: ArmFigure) -> str:
    return a.regimen or a.label


def arm_figure_text(a: ArmFigure) -> str:
    """An arm's own figure as printed: '76.4%', '21% (41 patients)', '13.93 months'; a percentage
    computed here from its count says so."""
    if a.value is None:
        return "not reported"
    if a.unit == "%":
        if a.basis == "computed":
            return f"{a.events}/{a.denominator} ({pct(a.value)}%, computed)"
        return f"{figure(a.value)}%" + (f" ({a.events} patients)" if a.events is not None else "")
    return f"{figure(a.value)} {a.unit}"


def ratio_interval(lo, hi, decimals, level: float | None) -> str:
    """' (95% CI 0.53–0.93)' with the level the source states (percent), ' (CI 0.79–1.75; level not
    stated)' where it states none, ' (no CI reported)' without limits."""
    if lo is None or hi is None:
        return " (no CI reported)"
    limits = f"{ratio(lo, decimals)}–{ratio(hi, decimals)}"
    return f" ({level:g}% CI {limits})" if level is not None else f" (CI {limits}; level not stated)"


def p_text(e: Effect) -> str:
    """'p = 0.018', or with the test the source names: 'Cox p = 0.012'."""
    return (f"{e.test} " if e.test else "") + f"p = {e.p_text}"


def statistic_text(e: Effect) -> str:
    """'HR 0.70 (95% CI 0.53–0.93), p = 0.0075' or 'Cox p = 0.012' or 'HR 0.29 (no CI reported)'."""
    if e.statistic == "p":
        return p_text(e) if e.p_text else "no p-value reported"
    ci = ratio_interval(e.ci_low, e.ci_high, e.decimals, e.ci_level)
    return f"{e.statistic} {ratio(e.estimate, e.decimals)}{ci}" + (f", {p_text(e)}" if e.p_text else "")


NO_CLEAR = "no clear difference"  # a result whose interval includes no effect, or whose p is not below 0.05


def direction_text(e: Effect) -> str:
    """Which arm the result favours, and how clearly: said the same way in every section."""
    if e.direction == NEITHER:
        return "favours neither arm (the arms' figures are equal)"
    fav = e.favoured
    if fav is None:
        return "direction not reported"
    role = "control" if e.direction == FAVOURS_CONTROL else "experimental"
    if e.basis == STATED:
        said = f"favours {arm_name(fav)} ({role}, as stated; no estimate)"
        return said if e.clear else f"{NO_CLEAR}; {said}; p ≥ 0.05"
    how = "" if e.basis == "estimate" else ", by the arms' figures"
    if e.clear is None:
        return f"favours {arm_name(fav)} ({role}{how}; no interval or p-value)"
    if not e.clear:
        why = "the interval includes no difference" if e.statistic != "p" and e.ci_low is not None else "p ≥ 0.05"
        return f"{NO_CLEAR}; point estimate favours {arm_name(fav)} ({role}{how}); {why}"
    return f"favours {arm_name(fav)} ({role}{how})"


def effect_text(e: Effect) -> str:
    """One between-arm result in a sentence: the arms' figures, the statistic, the direction."""
    x, c = e.experimental, e.control
    figures = (f"{arm_figure_text(x)} with {arm_name(x)} vs {arm_figure_text(c)} with {arm_name(c)}"
               if x.value is not None or c.value is not None else "no arm figures reported")
    return f"{outcome_text(e)} {figures} ({statistic_text(e)}; {direction_text(e)})"


def claim_rate_text(r: Rate) -> str:
    """A rate in a sentence, at the source's own precision: '32/122 (26.2%)'; a count derived here is
    marked and the printed percentage kept beside it; a percentage without a count says of how many."""
    at = at_text(r.timepoint)
    if r.events is not None and r.n:
        if not derived(r.basis):
            return f"{r.events}/{r.n} ({pct(r.percent)}%){at}"
        printed = (f"; printed {figure(r.percent_reported)}%" if r.percent_reported is not None
                   and figure(r.percent_reported) != pct(r.percent) else "")
        return f"{r.events}{DERIVED_MARK}/{r.n} ({pct(r.percent)}%{printed}){at}"
    if r.percent is not None and r.n_unfit:  # the printed figure, and what n is: not its denominator
        return f"{figure(r.percent)}% printed{at}; {r.n} {r.label}; denominator not stated"
    if r.percent is not None:
        of = (f" of {r.n}" if r.n else "")
        cohort = f"; {r.enrolled} in the cohort" if r.enrolled is not None and not r.n else ""
        if r.n_unclear:
            cohort = f"; n = {r.enrolled} as printed, what the {r.enrolled} counts is not stated"
        return f"{figure(r.percent)}%{of}{at} (no count printed{cohort})"
    return MISSING


def indirect_estimate(r: IndirectRow) -> str:
    """An indirect comparison's estimate as the section prints it, or why there is none."""
    if r.kind == "no path":
        return "no randomized path: " + "; ".join(r.no_path)
    if r.kind == "ranks":
        text = "; ".join(f"{population}: {measure} {int(rank)} of {int(out_of)}"
                         for population, measure, rank, out_of in r.ranks)
        return f"ranks (averages over iterations): {text}"
    if r.kind == "anchored":
        return f"HR {_ratio(r.ratio)} ({_ratio(r.low)}–{_ratio(r.high)}, {r.level * 100:g}%); {r.method}"
    if r.low is not None and r.high is not None:
        return f"HR {_ratio(r.ratio)} (CI {_ratio(r.low)}–{_ratio(r.high)}; level not stated)"
    return f"HR {_ratio(r.ratio)} (no CI reported)"


def indirect_direction(r: IndirectRow) -> str | None:
    """Which regimen an indirect comparison favours (a network: its finding as stated); None: no direction."""
    if not r.directed:
        return None
    if r.kind == "ranks":
        return f"as the source states it: {r.stated}"
    return favours(r.pair, "HR", r.ratio, r.low, r.high)


def indirect_trials(r: IndirectRow) -> str:
    """An anchored comparison's trials, each with its own estimate as reported; a synthesis's population."""
    if r.kind == "anchored":
        return "; ".join(f"{t['trial']}: {_as_reported(t)} ({t['report']})" for t in r.trial_rows)
    return r.population
