"""Text from the data is drawn as the characters it holds: a '$' or a backslash in a label is never
read by matplotlib as mathtext (where '$x^$' crashed the plot and '$5 to $10' was set as an italic
formula), nor handed to LaTeX by a user's matplotlibrc."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import DATA, first_fast, run

pytest.importorskip("matplotlib")

LABELS = [
    "evaluable $x^$ patients",  # not valid mathtext: the parser raised
    r"evaluable \alpha_{1} \\ {}",  # backslashes and braces
    "evaluable $5 to $10 group",  # valid mathtext: set silently as a formula
]


def labelled(tmp_path: Path, label: str) -> Path:
    """The bundled data with the pooled AML cohort of ref 22 labelled `label`."""
    d = tmp_path / "data"
    shutil.copytree(DATA, d)
    path = d / "cohorts.csv"
    text = path.read_text(encoding="utf-8")
    old = "s-aml-ref22,evaluable,evaluable for response,"
    assert text.count(old) == 1
    path.write_text(text.replace(old, f'"s-aml-ref22","evaluable","{label}",'), encoding="utf-8")
    return d


@pytest.mark.parametrize("label", first_fast(LABELS))  # a figure drawn each: one in the fast subset
def test_a_label_is_drawn_literally_in_the_forest_plot(tmp_path, label):
    d = labelled(tmp_path, label)
    run("--data", str(d), "pool", "-d", "AML", "--across-regimens", "--allow-mixed",
        "--plot", str(tmp_path / "forest.svg"), "-f", "csv")
    svg = (tmp_path / "forest.svg").read_text(encoding="utf-8")
    assert f"{label}</text>" in svg  # one text element, as written (SVG keeps text as text)


@pytest.mark.parametrize("suffix", first_fast([".png", ".pdf"]))
def test_a_label_that_is_not_mathtext_draws_in_every_format(tmp_path, suffix):
    d = labelled(tmp_path, LABELS[0])
    run("--data", str(d), "pool", "-d", "AML", "--across-regimens", "--allow-mixed",
        "--plot", str(tmp_path / f"forest{suffix}"),
        "-f", "csv")
    assert (tmp_path / f"forest{suffix}").stat().st_size > 1000


def test_a_label_is_drawn_literally_in_the_html_brief(tmp_path):
    d = labelled(tmp_path, LABELS[0])
    run("--data", str(d), "brief", "-d", "AML", "--html", str(tmp_path / "aml.html"))
    page = (tmp_path / "aml.html").read_text(encoding="utf-8")
    assert f"{LABELS[0]}</text>" in page  # in the inline SVG figure


def test_a_label_is_drawn_literally_in_every_page_of_brief_all(tmp_path):
    d = labelled(tmp_path, LABELS[2])
    run("--data", str(d), "brief", "--all", "--out", str(tmp_path / "pages"))
    assert f"{LABELS[2]}</text>" in (tmp_path / "pages" / "brief-aml.html").read_text(encoding="utf-8")


def test_a_matplotlibrc_asking_for_latex_is_not_followed(tmp_path, monkeypatch):
    """text.usetex in the user's settings would send every label to LaTeX (and fail where LaTeX
    is not installed): the figure's texts stay matplotlib's own, drawn literally."""
    import matplotlib

    d = labelled(tmp_path, LABELS[1])
    with matplotlib.rc_context({"text.usetex": True}):
        run("--data", str(d), "pool", "-d", "AML", "--across-regimens", "--allow-mixed",
            "--plot", str(tmp_path / "forest.svg"),
            "-f", "csv")
    assert f"{LABELS[1]}</text>" in (tmp_path / "forest.svg").read_text(encoding="utf-8")
