"""`import ctgov` fed what a hostile user gives it: the same record twice in one import, an NCT id
that is no NCT number, a file saved as .JSON, and a diff read without knowing which record it
came from. Each is said, never silently taken or dropped."""

from __future__ import annotations

import copy
import json

from tests.test_ctgov import FIXTURES, myeloma_variant, run
from xpo1cli import ctgov
from xpo1cli.data import load
from xpo1cli.datapackage import Problem


def test_the_same_record_twice_in_one_import_is_said_and_read_once(tmp_path):
    rec = json.loads((FIXTURES / "NCT00763412.json").read_text(encoding="utf-8"))
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": [rec, copy.deepcopy(rec)]}), encoding="utf-8")
    problems: list[Problem] = []
    records = list(ctgov.iter_records([page], problems))
    ds = load()
    done = ctgov.import_records(records, ds.descriptor, ds.tables)
    assert done.records == ["NCT00763412"]
    assert len(done.tables["registry_records"]) == 1
    said = [n for n in done.notes if n[2] == "NCT00763412" and "more than once" in n[0]]
    assert said and "identical" in said[0][1]
    assert any("more than once" in line for line in ctgov.summary(done.notes))


def test_an_nct_id_that_is_no_nct_number_is_named_as_such(tmp_path):
    rec = json.loads((FIXTURES / "NCT00763412.json").read_text(encoding="utf-8"))
    rec["protocolSection"]["identificationModule"]["nctId"] = "../../NCT0076"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(rec), encoding="utf-8")
    problems: list[Problem] = []
    assert list(ctgov.iter_records([path], problems)) == []
    assert [p.reason for p in problems] == ["nctId '../../NCT0076' is not an NCT number (NCT and 8 digits)"]


def test_a_record_saved_with_an_upper_case_extension_is_read_from_a_folder(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "NCT05594173.JSON").write_text((FIXTURES / "NCT05594173.json").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    problems: list[Problem] = []
    assert [r.nct for r in ctgov.iter_records([folder], problems)] == ["NCT05594173"] and problems == []


def test_each_difference_names_the_registry_record_it_comes_from(tmp_path):
    d = myeloma_variant()
    d["protocolSection"]["identificationModule"]["nctId"] = "NCT03110562"  # BOSTON's registry id
    _, out = run([d], tmp_path)
    diff = ctgov.registry_differences(out)
    assert len(diff) and set(diff["registry_source"]) == {"ctgov:NCT03110562"}
    cols = list(diff.columns)
    assert cols.index("registry_source") < cols.index("publication")

