"""ClinicalTrials.gov API v2 study records, read into the dataset's tables.

Every figure a record posts is kept as posted in four registry tables (records, measurements,
analyses, events), each row naming its record, the path of the figure inside it
(`resultsSection.outcomeMeasuresModule.outcomeMeasures[3].analyses[0]`) and the record's
last-update date. Where a record can be placed in the curated schema (an XPO1 inhibitor among its
interventions, its conditions in the disease table) its arms, the outcomes whose titles name a
known measure, its hazard and odds ratios and its adverse events also become curated rows, each
with the record as its source. Nothing is guessed: a condition, an intervention, an outcome title
or a number that does not match is listed with the reason, never placed.

The modules: `records` reads files of records (and a user's terms) and checks each record's shape;
`mapping` turns one record into rows; `writing` puts the rows of many records into a dataset and
writes it whole, reporting what a re-import changed; `diff` sets a trial's registry figures beside
its publications'. The command line is `cli/importing.py`.
"""

from .diff import registry_differences
from .records import SOURCE_PREFIX, Record, iter_records, known_codes, read_terms
from .writing import (
    REGISTRY_TABLES,
    Imported,
    RecordProblems,
    import_ctgov,
    import_records,
    refused_target,
    summary,
    write_imported,
)

__all__ = ["REGISTRY_TABLES", "SOURCE_PREFIX", "Imported", "Record", "RecordProblems", "import_ctgov",
           "import_records", "iter_records", "known_codes", "read_terms", "refused_target", "registry_differences",
           "summary", "write_imported"]
