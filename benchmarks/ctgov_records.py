"""Write N ClinicalTrials.gov study records shaped as the real ones in tests/fixtures/ctgov, for
timing `xpo1 import ctgov` on a folder: each is a copy of one fixture with its own NCT id; every
third is recast as a selinexor trial in myeloma (the tests' variant) so that the curated tables
grow too. Figures are the fixtures'; the records are not trial data.

    python benchmarks/ctgov_records.py OUT_DIR --records 10000
    time xpo1 import ctgov OUT_DIR --into /tmp/imported
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_ctgov import FIXTURES, myeloma_variant  # noqa: E402


def generate(out: Path, records: int, per_file: int = 100) -> Path:
    """Records in search pages of per_file studies each, as the API pages them."""
    shapes = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("NCT*.json"))]
    shapes.append(myeloma_variant())
    out.mkdir(parents=True, exist_ok=True)
    page: list[dict] = []
    for i in range(records):
        rec = copy.deepcopy(shapes[i % len(shapes)] if i % 3 else shapes[-1])
        rec["protocolSection"]["identificationModule"]["nctId"] = f"NCT9{i:07d}"
        page.append(rec)
        if len(page) == per_file or i == records - 1:
            (out / f"page-{i // per_file:05d}.json").write_text(json.dumps({"studies": page}), encoding="utf-8")
            page = []
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--records", type=int, default=10000)
    args = ap.parse_args()
    print(generate(args.out, args.records))
