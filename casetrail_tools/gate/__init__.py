"""``casetrail gate``: promote a candidate version only when it makes fewer errors than production
and stays within the rolling baseline.

``errors`` says what an error is on a dev-set ticket and on an agent's
correction (pure), ``baseline`` defines the rolling baseline from the promoted
versions' recorded dev-set measurements (pure), ``verdict`` compares two runs
overall, on the dev set and slice by slice (pure), ``run`` builds the decision
chain for each version and runs it, ``history`` shows a tenant's verdicts;
``casetrail.promotions`` keeps which versions are promoted and the history.
"""
