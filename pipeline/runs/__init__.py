"""A run's records: ML Metadata read back, the typed run summary (summary.json), the comparison
with the run in production, and the HTML report. Imports config/ and components/ only."""
