"""Gold emissions and IMO CII compliance for one reporting year.

Daily CO2 per vessel, attained and required CII with A-E ratings, the rating
trajectory to 2030 and a compliance report (Markdown, CSV, PNG).

CO2 comes from Silver fuel reports (fuel mass x C_F, MEPC.364(79)). A vessel's days of a
calendar year in which it filed no valid fuel report are estimated from AIS with the
Fourth IMO GHG Study bottom-up method and marked `is_estimated`. Distance is the
reported one (once per vessel-day) where a report gives it, else Gold
`vessel_daily_metrics`.

Modules: `transforms` (DataFrames in, DataFrames out), `report` (summary, Markdown, CSV,
PNG), `__main__` (the job: read, transform, write, report; console script
`maritime-emissions-compliance`).
"""
