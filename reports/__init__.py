"""What the province is judged by: the late-dossier and apology register, the Decision 766 indicators, national-portal
sync coverage, reconciliation against the real systems and the monthly workbook. A client of the hub's store, like
the console: the console, the CLI and the workbook call the same functions, so their figures agree."""
