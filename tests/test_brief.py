"""The evidence brief: its domain object, its Markdown and terminal text, its HTML in a real browser."""

from __future__ import annotations

import csv
import io
import re

import pytest

from xpo1cli.brief import build_brief
from xpo1cli.brief_render import markdown
from xpo1cli.brief_render_claims import claim_text
from xpo1cli.brief_rules import (
    ABSOLUTE_PER,
    CERTAINTY_LABEL,
    COHERENT_K,
    IMPRECISE_N,
    IMPRECISE_WIDTH,
    INCONSISTENT_I2,
    OIS_POWER,
)
from xpo1cli.data import load
from xpo1cli.findings import ALPHA
from xpo1cli.query import Filters

from .conftest import DATA, HANG, bundled_brief, first_fast, run

SECTIONS = ("1 Bottom line", "2 Randomized evidence", "3 Response evidence by regimen", "4 Survival", "5 Harms",
            "6 Summary of findings with certainty signals", "7 Indirect comparisons (across trials)",
            "8 What is not known", "9 Sources")

# every disease of the bundled hierarchy has a page
ALL_DISEASES = [r["disease"] for r in csv.DictReader(io.StringIO((DATA / "diseases.csv").read_text(encoding="utf-8")))]


@pytest.fixture(scope="module")
def ds():
    return load(DATA)


@pytest.fixture(scope="module")
def mm(ds):
    return bundled_brief("MM")


# --- the domain object ------------------------------------------------------------------------------


def test_mm_randomized_evidence_is_boston_with_its_arms_and_hr(mm):
    boston = next(t for t in mm.randomized if t.trial == "BOSTON")
    arms = {a.regimen: (a.role, a.n, a.control) for a in boston.arms}
    assert arms == {"SVd": ("experimental", 195, False), "Vd": ("control", 207, True)}
    pfs = next(s for s in boston.effects if s.measure == "PFS" and s.subgroup is None)
    assert (pfs.arm_a.label, pfs.experimental.regimen, pfs.control.regimen) == ("SVd arm", "SVd", "Vd")
    assert (pfs.statistic, pfs.estimate, pfs.ci_low, pfs.ci_high, pfs.decimals, pfs.p_text) == \
        ("HR", 0.70, 0.53, 0.93, 2, "0.0075")
    medians = {(m.cohort, m.measure): (m.median, m.unit) for m in boston.medians}
    assert medians[("svd", "PFS")] == (13.93, "months")
    assert medians[("vd", "PFS")] == (9.46, "months")


def test_mm_bottom_line_states_the_hr_as_printed_and_its_source(mm):
    text = [claim_text(s) for s in mm.bottom_line]
    assert any("PFS 13.93 months with SVd vs 9.46 months with Vd (HR 0.70 (95% CI 0.53–0.93), p = 0.0075; favours SVd"
               in t and "[B1, B2]" in t for t in text)
    from xpo1cli.bottom_line import ABSENCE

    assert all(s.sources and t.endswith("]") for s, t in zip(mm.bottom_line, text, strict=True)
               if s.kind not in ABSENCE)


def test_mm_response_pools_sd_as_pool_by_regimen_does(mm):
    sd = next(g for g in mm.response if g.regimen == "Sd" and g.measure == "ORR")
    assert [(r.study, r.events, r.n) for r in sd.rates] == [
        ("sd-phase1-ref12", 8, 84), ("storm-nejm-2019", 32, 122),
        ("march-bmcmed-2022", None, None)]  # MARCH prints a percentage without counts: shown, never pooled
    p = sd.pooled
    # the same figures `xpo1 pool -d MM --by regimen --knha` prints for Sd: with two cohorts the method
    # advises Knapp–Hartung, so the interval shown is its (t with 1 df)
    assert p.test == "knha"
    assert (round(p.estimate, 1), round(p.ci_low, 1), round(p.ci_high, 1)) == (16.8, 0.0, 99.8)
    assert (p.pi_low, p.pi_high, p.k, p.n_total) == (None, None, 2, 206)  # no prediction interval from two
    svd = next(g for g in mm.response if g.regimen == "SVd" and g.measure == "ORR")
    assert svd.pooled is None  # one cohort with a count: nothing pooled
    storm = next(r for r in sd.rates if r.study == "storm-nejm-2019")
    assert (storm.ci_low, storm.ci_high, storm.ci_basis) == (18.7, 35.0, "exact")


def test_control_arms_are_labelled_and_never_pooled(mm):
    vd = [g for g in mm.response if g.regimen == "Vd"]
    assert vd and all(r.control and r.agent is None for g in vd for r in g.rates)
    assert all(g.pooled is None for g in vd)
    for fo in mm.forests:  # the plotted pool holds XPO1-inhibitor cohorts only
        assert set(fo.frame["regimen"].dropna()) <= {"Sd", "SVd", "SRd", "SPd", "SDd", "SDoxd", "SId"}
    md = markdown(mm)
    assert "| Vd        | control arm (no XPO1 inhibitor)" in md
    assert not re.search(r"\|\s*Vd\s*\|[^|]*experimental", md)


def test_mm_harms_range_and_randomized_risk_difference(mm):
    thr = {(h.regimen, h.low, h.high, h.k) for h in mm.harm_ranges if h.term == "thrombocytopenia"}
    assert {("SVd", 39.0, 39.0, 1), ("Sd", 61.0, 61.0, 1), ("Sd", 59.0, 59.0, 1)} == thr  # never one range of both
    for h in mm.harm_ranges:  # a range holds the rows of one regimen at one dose
        rows = [r for r in mm.harms if (r.term, r.grade, r.regimen, r.dose) == (h.term, h.grade, h.regimen, h.dose)
                and r.role != "control"]
        assert h.k == sum(r.percent is not None for r in rows) and len({r.regimen for r in rows}) == 1
    rd = next(d for d in mm.risk_differences if d.term == "thrombocytopenia")
    assert (rd.exp_count, rd.exp_n, rd.ctl_count, rd.ctl_n, rd.difference, rd.ci_low, rd.ci_high) == \
        (77, 195, 35, 207, 22.6, 13.9, 30.9)
    assert {m.term for m in mm.mitigations} == {"megestrol acetate", "ondansetron",
                                                 "dose reduction or discontinuation"}


def test_mm_certainty_rules_move_ratings_and_say_why(mm):
    hr = next(f for f in mm.findings if f.outcome == "PFS" and f.statistic == "HR")
    assert hr.start == "high" and hr.patients == 402
    assert [m.rule for m in hr.moves] == ["reporting"]  # BOSTON figures reach the data through news reports
    assert hr.rating == "moderate"
    sd = next(f for f in mm.findings if f.regimen == "Sd" and f.outcome == "ORR (SD-PH1)")  # a trial's own row
    assert sd.start == "low" and [m.rule for m in sd.moves] == ["imprecision", "indirectness"]
    assert "MM, WM" in sd.moves[1].reason and sd.rating == "very low"


def test_mm_gaps_name_single_arm_regimens_conflicts_and_derived_counts(mm):
    kinds = {(g.kind, g.subject) for g in mm.gaps}
    assert ("outcomes without a between-arm statistic", "BOSTON") in kinds  # no between-arm statistic for OS
    assert any(k == "no randomized evidence" and "SRd" in s for k, s in kinds)
    assert ("conflict", "skd-ref15/all MR+PR+VGPR") in kinds
    assert ("derived count", "sd-phase1-ref12/all ORR") in kinds


def test_aml_randomized_trials_one_per_trial_with_reports_merged(ds):
    b = bundled_brief("AML")
    assert [t.trial for t in b.randomized] == ["HOVON-103-SEL", "SOPRA", "SEL-7+3-RAND"]
    sopra = b.randomized[1]
    assert {(a.regimen, a.n) for a in sopra.arms} == {("S", 118), ("PC", 57)}
    assert {r.source for r in sopra.rates} == {"P2"}  # the interim report's CR/CRi per arm
    os_hr = next(s for s in sopra.effects if s.measure == "OS")
    assert (os_hr.estimate, os_hr.ci_low, os_hr.ci_high, os_hr.p_text) == (1.18, 0.79, 1.75, "0.422")
    assert b.response[0].measure == "CR_CRi"  # AML reads remission first
    s73 = next(g for g in b.response if g.regimen == "S-7+3" and g.measure == "CR_CRi" and g.pooled)
    assert s73.pooled.k == 2 and any(r.audit for r in s73.rates)  # 8/19 printed as 53%


def test_dlbcl_single_arm_only(ds):
    b = bundled_brief("DLBCL")
    assert b.randomized == []
    assert claim_text(b.bottom_line[0]).startswith("No randomized trial of an XPO1 inhibitor in diffuse large B-cell")
    (orr,) = [g for g in b.response if g.measure == "ORR"]
    (sadal,) = orr.rates
    assert (sadal.study, sadal.events, sadal.n, sadal.basis) == ("sadal-lancet-2020", 36, 127, "sum of categories")
    assert any(g.kind == "report difference" and g.subject.startswith("SADAL") for g in b.gaps)
    assert all(f.start == "low" for f in b.findings)


def test_user_dataset_written_by_package(tmp_path):
    folder = tmp_path / "mine"
    run("package", str(folder))
    rows = list(csv.DictReader(io.StringIO((folder / "outcomes.csv").read_text(encoding="utf-8"))))
    for r in rows:  # the reviewer re-extracts ref 16: 27 of 40 responded
        if r["study"] == "svd-ref16" and r["measure"] == "ORR":
            r["count"], r["percent_reported"] = "27", "68"
    with open(folder / "outcomes.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    b = build_brief(load(folder), Filters(disease="MM"))
    svd = next(g for g in b.response if g.regimen == "SVd" and g.measure == "ORR")
    assert [(r.events, r.n, r.percent) for r in svd.rates if r.events is not None] == [(27, 40, 67.5)]
    out = run("--data", str(folder), "brief", "-d", "MM", "-f", "markdown").stdout
    assert "27/40 (67.5%)" in out and "25/40" not in out


# --- Markdown and terminal text --------------------------------------------------------------------


def test_markdown_has_the_nine_sections_in_order_and_the_label():
    out = run("brief", "--disease", "MM", "--format", "markdown").stdout
    heads = re.findall(r"^## (.+)$", out, flags=re.M)
    assert heads == list(SECTIONS)
    assert CERTAINTY_LABEL in out
    assert "**Summary of findings: SVd vs Vd (randomized, BOSTON)**" in out
    assert re.search(r"\| PFS +\| HR 0.70 \(95% CI 0.53–0.93\), p = 0.0075 +\|.*\| 402 \(1 trial\) ", out)
    assert "HR 0.70 (95% CI 0.53–0.93), p = 0.0075" in out
    assert "8*/84 (9.5%)" in out and "* count derived here" in out
    assert "[B1] (BOSTON report). https://bloodcancerstoday.com/" in out


def test_plain_text_brief_reads_as_sections():
    out = run("brief", "-d", "AML", "-f", "plain").stdout
    for s in SECTIONS:
        number, title = s.split(" ", 1)
        assert f"{number} {title.upper()}" in out
    assert "HR 1.18 (CI 0.79–1.75; level not stated), p = 0.422" in out


def test_brief_refuses_machine_formats_and_needs_a_disease():
    assert "not 'csv'" in run("brief", "-d", "MM", "-f", "csv", code=2).stderr
    assert "name a disease" in run("brief", code=2).stderr
    assert "--all and --out go together" in run("brief", "--all", code=2).stderr


# --- every printed figure traces to the data or a named statistic --------------------------------

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
EXPORTED = ("studies", "cohorts", "outcomes", "comparisons", "adverse_events", "sources", "trials", "regimens",
            "comparator_results", "syntheses")


def _forms(value) -> set[str]:
    try:
        v = abs(float(value))
    except (TypeError, ValueError):
        return set(NUMBER.findall(str(value)))
    forms = {f"{v:.1f}", f"{v:g}", f"{v:.2f}", f"{v:.3f}", str(value).lstrip("-")}  # and as exported
    if v.is_integer():
        forms.add(str(int(v)))
    return forms


def _exported_figures() -> set[str]:
    """Every number in `xpo1 export` of the tables, in the ways a brief may print it."""
    seen: set[str] = set()
    for table in EXPORTED:
        for row in csv.DictReader(io.StringIO(run("export", table).stdout)):
            for value in row.values():
                if value:
                    seen |= _forms(value) if re.fullmatch(r"-?\d+(\.\d+)?", value) else set(NUMBER.findall(value))
    return seen


def _named_statistics(ds, b) -> set[str]:
    """Figures computed here: the brief's named statistics, the audit's recomputations, the pool's
    own cautions, the confidence level and the stated rules' thresholds."""
    from xpo1cli.audit import audit
    from xpo1cli.views import report_differences

    out: set[str] = set()
    for v in b.statistics.values():
        out |= _forms(v)
    for text in [*audit(ds)["detail"], *report_differences(ds)["reports"], *report_differences(ds)["detail"],
                 *(c for g in b.response if g.pooled for c in g.pooled.cautions)]:
        out |= set(NUMBER.findall(text))
    return out | _forms(95) | _forms(IMPRECISE_WIDTH) | _forms(IMPRECISE_N) | _forms(INCONSISTENT_I2) | {"3"} \
        | _forms(ABSOLUTE_PER) | _forms(ALPHA) | _forms(100 * OIS_POWER) | _forms(COHERENT_K)


def _printed_figures(ds, text: str) -> list[str]:
    """The numbers of a Markdown brief, less list numbers, section numbers and identifiers (study,
    trial, cohort, regimen and source ids hold digits that are names, not figures)."""
    names = sorted({*ds.studies["study"], *ds.cohorts["cohort"], *ds.trials["trial"], *ds.regimens["regimen"],
                    *ds.sources["source"]}, key=len, reverse=True)
    for n in names:
        text = re.sub(rf"(?<![\w-]){re.escape(n)}(?![\w-])", " ", text)
    text = re.sub(r"^(##|\d+\.) ?\d*", " ", text, flags=re.M)
    return NUMBER.findall(text)


@pytest.fixture(scope="module")
def exported():
    return _exported_figures()


@pytest.mark.parametrize("disease", first_fast(ALL_DISEASES))
def test_every_figure_in_the_markdown_brief_is_exported_or_a_named_statistic(ds, exported, disease):
    b = bundled_brief(disease)
    text = markdown(b)
    allowed = exported | _named_statistics(ds, b)
    unknown = sorted({n for n in _printed_figures(ds, text) if n not in allowed})
    assert not unknown, unknown


# --- HTML in a real browser ------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
MEASURE = """<script>
window.addEventListener('load', () => {
  const out = document.createElement('pre'); out.id = 'xpo1-measure';
  const svgs = [...document.querySelectorAll('figure svg')].map(s => {
    const r = s.getBoundingClientRect(); return Math.round(r.width) + 'x' + Math.round(r.height); });
  const wide = [...document.querySelectorAll('table')].filter(t => t.scrollWidth > t.parentElement.clientWidth + 1);
  out.textContent = 'svg=' + svgs.join(',') + ';overflowing=' + wide.length; document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def browser():
    import shutil

    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("no headless Chromium on this machine (apt-get install -y chromium): HTML briefs not "
                    "checked in a browser")
    return found


def _chromium(browser: str, *args: str, timeout: int = HANG) -> str:
    import subprocess

    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-extensions", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("briefs")
    from .conftest import STATE

    STATE["data"] = None
    result = run("brief", "--all", "--out", str(out))
    assert f"wrote {len(ALL_DISEASES) + 1} pages" in result.stderr
    return out


def test_all_writes_an_index_and_a_page_per_disease(pages):
    names = sorted(p.name for p in pages.iterdir())
    assert names == sorted(["index.html", *(f"brief-{d.lower()}.html" for d in ALL_DISEASES)])
    page = (pages / "brief-mm.html").read_text(encoding="utf-8")
    before_sources = page.split('<ol class="sources">')[0]
    # nothing fetched: no script, stylesheet, image or font from elsewhere; the only addresses before the
    # sources' own links are the SVG namespaces
    assert not re.search(r"<script|<link|<img|<iframe|src=|@import|url\((?!#)", page)
    assert set(re.findall(r"https?://[^\s\"'<>]+", before_sources)) <= {"http://www.w3.org/2000/svg",
                                                                      "http://www.w3.org/1999/xlink"}


@pytest.mark.parametrize("disease", ALL_DISEASES)
def test_page_renders_in_chromium(browser, pages, disease):
    from html.parser import HTMLParser

    page = pages / f"brief-{disease.lower()}.html"
    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = _chromium(browser, "--virtual-time-budget=5000", "--window-size=1200,3000", "--dump-dom",
                    probe.as_uri())

    class Read(HTMLParser):
        def __init__(self):
            super().__init__()
            self.h2, self.rows, self.tag, self.svg = [], 0, None, 0

        def handle_starttag(self, tag, attrs):
            self.tag = tag
            self.rows += tag == "tr"
            self.svg += tag == "svg"

        def handle_data(self, data):
            if self.tag == "h2" and data.strip():
                self.h2.append(data.strip())

    read = Read()
    read.feed(dom)
    assert read.h2 == list(SECTIONS)
    assert read.rows >= 8
    measured = re.search(r'id="xpo1-measure">svg=([^;]*);overflowing=(\d+)<', dom)
    assert measured, dom[-500:]
    sizes = [tuple(map(int, s.split("x"))) for s in measured.group(1).split(",") if s]
    b = build_brief(load(DATA), Filters(disease=disease))
    assert len(sizes) == len(b.forests)
    assert all(w > 300 and h > 100 for w, h in sizes), sizes
    assert measured.group(2) == "0"  # no table wider than the page
    if disease == "MM":
        assert "HR 0.70 (95% CI 0.53–0.93), p = 0.0075" in dom
        assert "control arm (no XPO1 inhibitor)" in dom
        assert "ref 12 · Sd · all patients (MM and WM)" in dom  # the forest plot's text, as SVG text


def test_every_html_cell_carries_its_column_header_as_label(ds):
    from html.parser import HTMLParser

    from xpo1cli.brief_render import html_page

    class Read(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table":
                self.tables.append({"headers": [], "rows": []})
            elif tag == "tr" and self.tables:
                self.tables[-1]["rows"].append([])
            elif tag == "th" and a.get("scope") == "col":
                self.cell = self.tables[-1]["headers"]
                self.cell.append("")
            elif tag in ("th", "td") and self.tables:
                assert tag == "td" or a.get("scope") == "row"
                self.tables[-1]["rows"][-1].append(a.get("data-label"))

        def handle_endtag(self, tag):
            if tag == "th":
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell[-1] += data

    read = Read()
    read.feed(html_page(bundled_brief("MM")))
    assert len(read.tables) >= 5
    for t in read.tables:
        rows = [r for r in t["rows"] if r]
        assert rows and t["headers"]
        assert all(r == t["headers"] for r in rows), (t["headers"], rows[0])


def test_a_header_is_escaped_in_its_label():
    from xpo1cli.brief_render import _environment

    table = {"id": "t", "caption": "c", "kind": "k", "headers": ['a "x" <i>', "b & c"], "rows": [["1", "2"]],
             "row_kinds": [], "notes": [], "columns": 2}
    html = _environment().get_template("brief.html.j2").render(index=True, title="t", selection="s", pages=table)
    assert 'data-label="a &#34;x&#34; &lt;i&gt;"' in html and 'data-label="b &amp; c"' in html
    assert "<i>" not in html


def test_screenshot_of_the_mm_page(browser, pages, tmp_path):
    shot = tmp_path / "brief-mm.png"
    _chromium(browser, f"--screenshot={shot}", "--window-size=1200,3000", (pages / "brief-mm.html").as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 3000)
    assert len(data) > 100_000  # a page of text, tables and a plot, not a blank one


def test_print_to_pdf_fits_a4(browser, pages, tmp_path):
    pdf = tmp_path / "brief-mm.pdf"
    _chromium(browser, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", (pages / "brief-mm.html").as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert boxes and all(abs(float(w) - 595.9) < 2 and abs(float(h) - 842.9) < 2 for w, h in boxes), boxes


@pytest.mark.parametrize("disease", ["MM", "AML"])
def test_risk_differences_are_the_toxicity_arms_rows(ds, disease):
    from xpo1cli.query import filter_studies
    from xpo1cli.toxicity import with_deaths
    from xpo1cli.views import toxicity_arms

    studies = filter_studies(ds, Filters(disease=disease))
    rand = studies[studies["randomized"].fillna(False).astype(bool)]
    theirs = [(r.trial, r.term, r.grade, int(r.exp_count), int(r.exp_n), int(r.ctl_count), int(r.ctl_n),
               r.risk_difference, r.rd_ci_low, r.rd_ci_high, r.n_basis)
              for r in toxicity_arms(ds, rand, events=with_deaths(ds, rand)).itertuples()]  # deaths are harms too
    ours = [(d.trial, d.term, d.grade, d.exp_count, d.exp_n, d.ctl_count, d.ctl_n, d.difference, d.ci_low,
             d.ci_high, d.n_basis) for d in bundled_brief(disease).risk_differences]
    assert ours == theirs


def test_newcombe_interval_matches_statsmodels_unrounded():
    from statsmodels.stats.proportion import confint_proportions_2indep

    from xpo1cli.stats import risk_difference_ci as newcombe

    for x1, n1, x2, n2 in [(77, 195, 35, 207), (0, 10, 3, 12), (5, 5, 0, 7), (41, 195, 70, 207)]:
        for level in (0.95, 0.9):
            ref = confint_proportions_2indep(x1, n1, x2, n2, compare="diff", method="newcomb", alpha=1 - level)
            assert newcombe(x1, n1, x2, n2, level) == pytest.approx(tuple(map(float, ref)), abs=1e-12)


def test_a_regimen_filter_keeps_the_trials_control_arm_labelled(ds):
    b = build_brief(ds, Filters(disease="MM", regimen="SVd"))
    (boston,) = b.randomized
    assert [(a.regimen, a.control) for a in boston.arms] == [("SVd", False), ("Vd", True)]
    assert "PFS 13.93 months with SVd vs 9.46 months with Vd" in claim_text(b.bottom_line[1])
    assert {g.regimen for g in b.response} <= {"SVd", "Vd"}


def test_all_built_on_several_cores_writes_what_one_core_writes(tmp_path, monkeypatch):
    """--all builds its pages in forked processes when the machine has the cores: the pages and
    the index are byte for byte those built one after the other."""
    from xpo1cli.cli import brief as brief_cli

    written = {}
    for cores in (1, 2):
        monkeypatch.setattr(brief_cli, "_cores", lambda cores=cores: cores)
        out = tmp_path / f"cores-{cores}"
        run("brief", "--all", "--out", str(out))
        written[cores] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert len(written[1]) == len(load().diseases) + 1
    assert written[1] == written[2]


# --- text from a user's dataset is never markup, a link or a script --------------------------------

PLANTED = {  # (file, key column, key, column): hostile text a user's dataset may hold
    ("diseases.csv", "disease", "MM", "name"): "multiple myeloma <img src=x onerror=alert('disease')>",
    ("sources.csv", "source", "B1", "address"): "javascript:alert('B1')",
    ("sources.csv", "source", "B2", "address"): "JaVaScRiPt:alert('B2')",
    ("sources.csv", "source", "S2", "address"): "data:text/html,<script>alert('S2')</script>",
    ("sources.csv", "source", "M1", "title"): "<script>alert('title')</script> [x](javascript:alert('md'))",
    ("sources.csv", "source", "M3", "citation"): "<svg onload=alert('citation')> [r]: javascript:alert('def')",
    ("cohorts.csv", "cohort", "mitt", "label"): "<svg onload=alert('cohort')> &amp; [y](javascript:alert(1))",
    ("comparisons.csv", "id", "boston-pfs-hr", "note"): "<script>alert('note')</script>",
    ("trials.csv", "trial", "BOSTON", "name"): "<svg/onload=alert('trial')>",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The bundled data, copied, with markup, scripts and javascript:/data: addresses planted in
    source addresses and titles, a disease name, a cohort label, a trial name and a note."""
    import shutil

    import pandas as pd

    folder = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(DATA, folder)
    for (name, key, value, column), text in PLANTED.items():
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        hit = frame[key] == value
        assert hit.any(), (name, value)
        frame.loc[hit, column] = text
        frame.to_csv(folder / name, index=False)
    return folder


def test_markdown_brief_passes_no_markup_from_the_data(hostile):
    from .test_render import _tags

    out = run("--data", str(hostile), "brief", "-d", "MM", "-f", "markdown").stdout
    assert not re.search(r"<(script|svg|img)", out, flags=re.I)
    assert "&lt;script>alert('title')&lt;/script>" in out  # shown, as text
    assert "&lt;svg onload=alert('cohort')> &amp;amp; [y\\](javascript:alert(1))" in out
    tags = _tags(out)
    assert {t for t, _ in tags} <= {"h1", "h2", "p", "ol", "ul", "li", "blockquote", "strong", "em", "code", "table",
                                    "thead", "tbody", "tr", "th", "td", "br"}
    assert not [a for t, a in tags if t == "a" or any(k.startswith("on") for k, _ in a)]


def _live_markup(dom: str) -> list[str]:
    """What a browser would run or follow in a dumped DOM: script elements, event-handler attributes
    and links or sources to anything but http(s), an anchor of the page or (the index) a page of --all."""
    from html.parser import HTMLParser

    found = []

    class Read(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "img"):
                found.append(tag)
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(f"{tag} {name}")
                ours = re.match(r"(https?://|#|brief-[a-z0-9_-]+\.html$)", value or "")
                if name in ("href", "src", "xlink:href", "action") and not ours:
                    found.append(f"{tag} {name}={value}")

    Read().feed(dom)
    return found


@pytest.mark.parametrize("how", ["html", "all"])
def test_html_brief_runs_and_links_nothing_from_the_data(browser, hostile, tmp_path, how):
    if how == "html":
        run("--data", str(hostile), "brief", "-d", "MM", "--html", str(tmp_path / "mm.html"))
        shown = [tmp_path / "mm.html"]
    else:
        run("--data", str(hostile), "brief", "--all", "--out", str(tmp_path / "all"))
        shown = [tmp_path / "all" / "brief-mm.html", tmp_path / "all" / "index.html"]
    for page in shown:
        dom = _chromium(browser, "--virtual-time-budget=3000", "--dump-dom", page.as_uri())
        assert not _live_markup(dom), (page.name, _live_markup(dom))
        assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', dom)).lower()
        assert "onerror=alert('disease')" in dom  # the disease name, as text
    dom = _chromium(browser, "--virtual-time-budget=3000", "--dump-dom", shown[0].as_uri())
    assert "&lt;script&gt;alert('title')&lt;/script&gt;" in dom
    assert "javascript:alert('B1')" in dom and "data:text/html,&lt;script&gt;" in dom  # addresses as text
    assert "&lt;svg onload=alert('cohort')&gt;" in dom  # in the tables and as the forest plot's SVG text
    assert re.search(r"<text[^>]*>[^<]*&lt;svg onload=alert\('cohort'\)", dom)


# --- where the brief is read: a phone, a desktop, A4 ------------------------------------------------

AT_WIDTH = """<script>
window.addEventListener('load', () => {
  const text = [...document.querySelectorAll('figure svg text')].map(t => {
    const m = t.getScreenCTM(); return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b); });
  const cells = [...document.querySelectorAll('tbody td, tbody th')];
  const loose = [...document.querySelectorAll('table')].filter(t => !t.parentElement.classList.contains('scroll'));
  parent.postMessage(JSON.stringify({viewport: innerWidth, page: document.documentElement.scrollWidth,
    smallest: text.length ? Math.min(...text) : null, loose: loose.length,
    boxes: document.querySelectorAll('.scroll').length,
    scrolling: [...document.querySelectorAll('.scroll')].filter(b => b.scrollWidth > b.clientWidth + 1).length,
    tables_scrolling: [...document.querySelectorAll('.scroll')].filter(b => b.querySelector('table') &&
      b.scrollWidth > b.clientWidth + 1).length, cells: cells.length,
    cell_text: Math.min(...cells.flatMap(c => [getComputedStyle(c), getComputedStyle(c, '::before')])
      .filter(s => s.content !== 'none').map(s => parseFloat(s.fontSize))),
    labelled: cells.filter(c => getComputedStyle(c, '::before').content === JSON.stringify(c.dataset.label)).length
    }), '*');
});
</script>"""


def _at_width(browser: str, page, width: int) -> dict:
    """The page laid out in a frame `width` CSS px wide (headless Chromium's window is never under
    500 px): its own scroll width, the smallest text of its plots in px, its tables outside a
    scroll box."""
    import json

    probe = page.with_name(f"probe-{width}-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", AT_WIDTH + "</body>"), encoding="utf-8")
    host = page.with_name(f"host-{width}-{page.name}")
    host.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe src="{probe.name}" '
                    f'style="width:{width}px;height:2000px;border:0"></iframe><pre id="m"></pre><script>'
                    "addEventListener('message', e => { document.getElementById('m').textContent = e.data; });"
                    "</script></body></html>", encoding="utf-8")
    dom = _chromium(browser, "--virtual-time-budget=5000", "--window-size=1300,1000", "--dump-dom", host.as_uri())
    found = re.search(r'<pre id="m">([^<]+)</pre>', dom)
    assert found, dom[-500:]
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("disease", ["MM", "AML", "MF"])
@pytest.mark.parametrize("width", [390, 1280])
def test_page_never_scrolls_sideways_and_plot_text_stays_readable(browser, pages, disease, width):
    m = _at_width(browser, pages / f"brief-{disease.lower()}.html", width)
    assert m["viewport"] == width
    assert m["page"] <= width  # wide tables and plots scroll in their own boxes, the page never does
    assert m["loose"] == 0 and m["boxes"] >= 3
    b = build_brief(load(DATA), Filters(disease=disease))
    if b.forests:
        assert m["smallest"] >= 9 - 0.05, m  # plot text at least 9 px, on a phone too
    if width == 1280:
        assert m["scrolling"] == 0  # on a desktop nothing needs scrolling
    assert m["cell_text"] >= 9 and m["cells"] > 20
    # on a phone a table is a stack of cards, each cell under its column's header: no table scrolls, so no
    # figure column starts off-screen; on a desktop the header row labels the cells
    assert m["tables_scrolling"] == 0
    assert m["labelled"] == (m["cells"] if width == 390 else 0)


def test_citation_markers_link_to_their_sources_and_dois_are_links(pages):
    page = (pages / "brief-mm.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'<li id="(src-[^"]+)"', page))
    assert {"src-B1", "src-M1", "src-M7"} <= ids
    markers = re.findall(r'<a href="#(src-[^"]+)">', page)
    assert "src-B1" in markers and set(markers) <= ids  # every marker's target is on the page
    assert '[<a href="#src-B1">B1</a>, <a href="#src-M3">M3</a>, <a href="#src-M12">M12</a>]' in page
    assert '<a href="https://doi.org/10.1186/s12916-022-02305-4">https://doi.org/10.1186/s12916-022-02305-4</a>' \
        in page  # MARCH (M1) states its DOI
    assert re.search(r'Evidence as of 11 July 2025: the latest date a source of this brief states '
                     r'\(M3: data cut-off', page)
    heads = re.findall(r"<th( scope=\"(?:col|row)\")?>", page)
    assert heads and all(heads)  # every header cell says what it heads


@pytest.mark.parametrize("disease", first_fast(ALL_DISEASES))
def test_every_brief_says_what_its_evidence_dates_from(ds, disease):
    from xpo1cli.brief_render_layout import evidence_text

    b = bundled_brief(disease)
    dates = [c.date for c in b.citations if c.date is not None]
    text = evidence_text(b)
    if dates:
        latest = max(dates, key=lambda d: d.key)
        assert text.startswith(f"Evidence as of {latest.text}:") and latest.kind in text
    else:
        assert "states a date" in text
    assert text in markdown(b)


def test_stated_dates_read_what_a_source_says_of_itself(ds):
    from xpo1cli.catalogue import stated_dates

    dates = stated_dates(ds)
    # 'company press release, 2017-03-02'
    assert (dates["P2"].text, dates["P2"].kind) == ("2 March 2017", "press-release date")
    assert dates["M1"].text == "5 April 2022"  # 'BMC Med. 2022 Apr 5;20(1):108'
    assert (dates["M3"].text, dates["M3"].kind) == ("11 July 2025", "data cut-off")  # 'data as of 11 July 2025'
    assert "review" not in dates and "B2" in dates  # the review states no date; B2's citation 'Lancet 2020'
    assert "H1" not in dates  # its DOI (s41375-022-...) is an identifier, not a date


def _pdf_pages(pdf) -> list[str]:
    """The text of each page of a PDF, by pdftotext (poppler) or Ghostscript, whichever is here."""
    import shutil
    import subprocess

    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
        return out.stdout.split("\f")[:-1]
    if shutil.which("gs"):
        subprocess.run(["gs", "-q", "-sDEVICE=txtwrite", "-o", str(pdf.with_name(pdf.stem + "-%03d.txt")), str(pdf)],
                       check=True, capture_output=True)
        return [p.read_text(errors="replace") for p in sorted(pdf.parent.glob(pdf.stem + "-*.txt"))]
    pytest.skip("no pdftotext or Ghostscript to read the printed pages")


@pytest.mark.parametrize("space", [250, 256])  # mm: the section title and caption fit above the page foot, a row not
def test_in_print_a_section_title_and_table_header_keep_with_the_first_row(browser, pages, tmp_path, space):
    page = (pages / "brief-mm.html").read_text(encoding="utf-8")
    head = page[:page.index("<body>") + len("<body>")]
    start = page.index('<p class="caption"', page.index('<section id="s2"'))
    table = page[start:page.index("</div>", start) + len("</div>")]
    cut = table.index("</p>")
    table = table[:cut] + " CAPTIONMARK" + table[cut:]
    cut = table.index("</th>", table.index("<tbody>"))
    table = table[:cut] + " ROWMARK" + table[cut:]
    doc = tmp_path / "foot.html"
    doc.write_text(f'{head}<div style="height: {space}mm"></div><h2>2 Randomized evidence TITLEMARK</h2>{table}'
                   "</body></html>", encoding="utf-8")
    pdf = tmp_path / "foot.pdf"
    _chromium(browser, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", doc.as_uri())
    printed = _pdf_pages(pdf)
    assert len(printed) == 2  # the spacer fills the first page
    on = {mark: next(i for i, text in enumerate(printed) if mark in text)
          for mark in ("TITLEMARK", "CAPTIONMARK", "ROWMARK")}
    assert on == {"TITLEMARK": 1, "CAPTIONMARK": 1, "ROWMARK": 1}, on


def test_print_rules_repeat_header_rows_and_let_boxes_grow(pages):
    page = (pages / "brief-mm.html").read_text(encoding="utf-8")
    rules = page[page.index("@media print"):page.index("</style>")]
    assert "thead { display: table-header-group;" in rules  # a long table's header row on every page
    assert ".scroll { overflow: visible; }" in rules  # nothing hidden in a scroll box on paper
    assert "figure svg { min-width: 0;" in rules  # a plot shrinks to the page


def test_cited_links_markers_of_the_pages_sources_only():
    from xpo1cli.brief_render import cited

    anchors = {"B1": "src-B1", "M3": "src-M3", "a<b": "src--3"}
    assert cited("HR 0.70 [B1, M3]", anchors) == \
        'HR 0.70 [<a href="#src-B1">B1</a>, <a href="#src-M3">M3</a>]'
    assert cited("[B1, X9] and [see below]", anchors) == "[B1, X9] and [see below]"  # X9 is not on the page
    assert cited("B1, M3", anchors, bare=True) == '<a href="#src-B1">B1</a>, <a href="#src-M3">M3</a>'
    assert cited("B1", anchors) == "B1"  # a bare id in running text is a word, not a marker
    assert cited("[a<b] <script>", anchors) == '[<a href="#src--3">a&lt;b</a>] &lt;script&gt;'
    assert cited("as `xpo1 pool --by regimen` [B1]", anchors) == \
        'as <code>xpo1 pool --by regimen</code> [<a href="#src-B1">B1</a>]'
