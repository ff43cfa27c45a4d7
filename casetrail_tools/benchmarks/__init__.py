"""Benchmark commands (``casetrail bench ...``): they print figures and the machine, never assert."""
