"""The brief's indirect comparisons, a section of their own: SVd against the comparators the HTA
statements name, each with its anchored estimate, the trials behind it and the reasons to doubt it
(see `indirect`); then the published comparative syntheses among the brief's studies (a network
meta-analysis's ranks, a matching-adjusted comparison's hazard ratios), each with its direction.

Certainty of an indirect comparison (INDIRECT_RULE): it starts low; down one for imprecision where
its interval includes no effect; down one for indirectness where the estimate rests on each trial's
whole randomized population while the HTA statement names a narrower one; down one for no anchor where
the data mark a comparison unanchored (syntheses.anchored false: matched cohorts of different trials
that share no comparator arm, so only the matched factors are balanced); a synthesis that gives no
estimate with an interval on the stored page is not rated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .data import Dataset

# (regimen, measure, what the statement says of it, its source): NICE TA974 names these for SVd
HTA_COMPARATORS = (
    ("Kd", "PFS", "NICE TA974: the second-line comparator", "C37"),
    ("PanoVd", "PFS", "NICE TA974: a third-line comparator (lenalidomide-refractory)", "C37"),
    ("IRd", "PFS", "NICE TA974: a third-line comparator (lenalidomide-sensitive)", "C37"),
)
SUBJECT = "SVd"
INDIRECT_RULE = ("An indirect comparison (across trials: anchored on a common comparator, matched, or a "
                 "published network) starts low; down one for imprecision where its interval includes no effect; "
                 "down one for indirectness where it rests on each trial's whole randomized (ITT) population "
                 "while the HTA statement names a narrower one; down one for no anchor where a matched comparison "
                 "names no common comparator arm (unanchored); a synthesis without an estimate and interval on "
                 "the stored page is not rated.")
NOT_RATED = "not rated"
NO_ANCHOR = ("no anchor: the matched cohorts share no common comparator arm the source names (unanchored); "
             "only the matched factors are balanced, residual confounding remains")


def unanchored(anchored) -> bool:
    """A comparison the data mark as sharing no common comparator arm (syntheses.anchored is false);
    empty (not stated) is not read as unanchored."""
    from .values import value_or_none

    v = value_or_none(anchored)
    return v is not None and not bool(v)


@dataclass
class IndirectRow:
    """One indirect comparison as data; brief_render_cells words its estimate, direction and trials.

    kinds: anchored (computed here over common comparators), no path (no randomized path: `no_path`
    names what is missing), ratio (a published synthesis's hazard ratio), ranks (a network's ranks)."""

    comparison: str  # the pair and outcome it answers
    statement: str
    kind: str
    pair: str = ""  # 'A vs B' of the ratio: a hazard ratio below 1 favours A
    ratio: float | None = None  # the hazard ratio
    low: float | None = None  # its interval, where one is stated
    high: float | None = None
    level: float | None = None  # the interval's level (anchored); a synthesis's is not stated
    no_path: list[str] = field(default_factory=list)  # no path: the comparisons missing
    trial_rows: list[dict] = field(default_factory=list)  # anchored: each trial's own estimate (indirect.compare)
    population: str = ""  # a published synthesis: its population as its source gives it
    ranks: list[tuple] = field(default_factory=list)  # ranks: (population, measure, rank, out of)
    stated: str | None = None  # ranks: the finding its source states in words
    doubts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # computed here: ratio and interval, by name
    method: str | None = None  # anchored (Bucher) via X, matching-adjusted indirect comparison, network ...
    certainty: str = NOT_RATED
    reasons: list[str] = field(default_factory=list)  # 'rule: why' of each move down
    study: str | None = None  # a published synthesis: its study row

    @property
    def directed(self) -> bool:
        """Whether the row has a direction: a ratio with its interval, or ranks with a stated finding."""
        if self.kind == "ranks":
            return bool(self.stated)
        return self.ratio is not None and self.low is not None and self.high is not None


def _rated(moves: list[str]) -> str:
    from .brief_rules import LEVELS

    return LEVELS[max(0, LEVELS.index("low") - len(moves))]


def hta_rows(ds: Dataset, disease: str | None) -> list[IndirectRow]:
    """SVd against each comparator an HTA statement names, for the myeloma brief only."""
    from .indirect import compare

    if disease != "MM" or SUBJECT not in set(ds.regimens["regimen"]):
        return []
    known = set(ds.regimens["regimen"])
    rows = []
    for regimen, measure, statement, source in HTA_COMPARATORS:
        if regimen not in known or source not in set(ds.sources["source"]):
            continue
        ans = compare(ds, SUBJECT, regimen, measure=measure)
        pair = f"{SUBJECT} vs {regimen}, {measure}"
        if ans.estimate is None:
            rows.append(IndirectRow(pair, statement, "no path", no_path=list(ans.missing), sources=[source]))
            continue
        lo, hi = ans.estimate.ci
        doubts = [*ans.warnings, *[c.removeprefix("warning: ") for c in ans.checks if c.startswith("warning")]]
        figures = {f"indirect {pair} HR": ans.estimate.ratio, f"indirect {pair} low": lo,
                   f"indirect {pair} high": hi}
        for r in ans.trials.to_dict("records"):
            if r["orientation"].startswith("inverted"):  # the trial's own figure, read the other way
                figures.update({f"{r['trial']} {pair} inverted": r["estimate"],
                                f"{r['trial']} {pair} inverted low": r["ci_low"],
                                f"{r['trial']} {pair} inverted high": r["ci_high"]})
        moves = []
        if lo <= 1 <= hi:
            moves.append("imprecision: the interval includes no effect")
        moves.append("indirectness: ITT populations used (each trial's all randomized patients), not the "
                     f"population {statement.split(':')[0]} names for this comparator")
        rows.append(IndirectRow(pair, statement, "anchored", pair=f"{SUBJECT} vs {regimen}",
                                ratio=ans.estimate.ratio, low=lo, high=hi, level=ans.level,
                                trial_rows=ans.trials.to_dict("records"), doubts=doubts,
                                sources=[source, *dict.fromkeys(ans.trials["source"])], figures=figures,
                                method=ans.method, certainty=_rated(moves), reasons=moves))
    return rows


def synthesis_rows(ds: Dataset, studies: set[str]) -> list[IndirectRow]:
    """The published comparative syntheses among these studies: a hazard ratio of one regimen against
    another ('OS hazard ratio, A vs B') with its direction, or a network's ranks with the finding its
    source states in words. A synthesis of single-arm rates (a pooled ORR) is not comparative: not here."""
    from .values import row_tuples, value_or_none

    syn = ds.syntheses[ds.syntheses["study"].isin(studies)]
    info = ds.studies.set_index("study")
    rows: list[IndirectRow] = []
    for study, group in syn.groupby("study", sort=False):
        report = value_or_none(info.at[study, "report"]) or study
        stated = value_or_none(info.at[study, "findings"])
        ratios = [r for r in row_tuples(group) if r.unit == "hazard ratio" and " vs " in str(r.measure)
                  and value_or_none(r.value) is not None]
        ranks = [r for r in row_tuples(group) if r.unit == "rank"]
        for r in ratios:
            outcome, _, pair = str(r.measure).partition(" hazard ratio, ")
            lo, hi = value_or_none(r.low), value_or_none(r.high)
            if lo is not None and hi is not None:
                moves = ["imprecision: the interval includes no effect"] if lo <= 1 <= hi else []
                if unanchored(getattr(r, "anchored", None)):
                    moves.append(NO_ANCHOR)
                certainty, reasons = _rated(moves), moves
            else:
                certainty, reasons = NOT_RATED, ["no interval on the stored page"]
            where = value_or_none(r.population)
            rows.append(IndirectRow(f"{pair}, {outcome}" + (f" ({where})" if where else ""), report, "ratio",
                                    pair=pair, ratio=r.value, low=lo, high=hi,
                                    population=value_or_none(info.at[study, "population"]) or "",
                                    sources=[r.source], method=report, certainty=certainty,
                                    reasons=reasons, study=study))
        if ranks:
            regimen = next((value_or_none(r.regimen) for r in ranks if value_or_none(r.regimen)), None)
            rows.append(IndirectRow(f"{regimen or 'the regimen'} ranked among regimens", report, "ranks",
                                    ranks=[(r.population, r.measure, r.value, r.out_of) for r in ranks
                                           if value_or_none(r.out_of) is not None],
                                    stated=stated, population=value_or_none(info.at[study, "population"]) or "",
                                    sources=list(dict.fromkeys(r.source for r in ranks)),
                                    method=report, certainty=NOT_RATED,
                                    reasons=["no estimate with an interval on the stored page"], study=study))
    return rows
