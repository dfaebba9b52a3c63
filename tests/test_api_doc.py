"""docs/api.md, run as written: every `>>>` example of its pycon blocks, in order and in one
namespace, prints what the page shows."""

from __future__ import annotations

import doctest
import re

from .conftest import ROOT

PAGE = ROOT / "docs" / "api.md"


def test_the_api_page_runs_as_written(monkeypatch):
    monkeypatch.chdir(ROOT)  # the page's paths are the checkout's (tests/fixtures/ctgov)
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```pycon\n(.*?)```", text, flags=re.S)
    parser = doctest.DocTestParser()
    examples = [e for block in blocks for e in parser.get_examples(block)]
    assert len(examples) >= 20
    test = doctest.DocTest(examples, {}, "docs/api.md", str(PAGE), 0, None)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
