"""The six casetrail services."""
