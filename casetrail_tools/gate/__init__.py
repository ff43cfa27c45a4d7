"""``casetrail gate``: promote a candidate version only when it makes fewer errors than production.

``errors`` says what an error is on a dev-set ticket and on an agent's
correction (pure), ``verdict`` compares two runs slice by slice (pure),
``run`` builds the decision chain for each version and runs it, ``registry``
keeps which versions are promoted.
"""
