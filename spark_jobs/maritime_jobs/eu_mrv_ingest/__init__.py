"""Ingest EMSA EU MRV "Publication of information" workbooks into Silver and Gold Delta tables.

* ``silver/eu_mrv_reports``: one row per IMO number and reporting period, published
  totals plus the derived annual distance, implied CO2 factor and two plausibility flags.
* ``silver/eu_mrv_quarantine``: every input row that cannot be used, with its reasons.
* ``gold/eu_mrv_ship_type_year``: per ship type and reporting period, ships, CO2, fuel,
  distance, time at sea and the median implied CO2 factor.

Each write replaces exactly the reporting periods of its input (``replaceWhere``), so a
rerun on the same files gives identical tables. ``--dry-run`` parses without Spark and
prints one JSON line per input ship row.

Modules: `parse` (the workbooks, without Spark), `__main__` (the job; console script
`maritime-eu-mrv-ingest`). Details and numbers: ``docs/EU_MRV.md``.
"""
