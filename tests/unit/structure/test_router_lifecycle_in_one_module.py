"""The router's case statuses are written in one place, services/router/case.py (issue 18 item 2):
every other router module moves a case through its transitions, never by a status string."""

import pathlib
import re

from services.router.case import CaseStatus

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROUTER = ROOT / "services" / "router"
# (module, literal) pairs that are the same word with another meaning, each with why.
NOT_A_STATUS = {
    ("app.py", "acknowledged"): "the first-response metric's outcome label (sent / human_notified / acknowledged)",
}


def test_no_case_status_literal_outside_the_lifecycle_module():
    literal = re.compile(r"""["'](%s)["']""" % "|".join(s.value for s in CaseStatus))
    offenders = []
    for path in sorted(ROUTER.rglob("*.py")):
        relative = path.relative_to(ROUTER).as_posix()
        if relative == "case.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in literal.finditer(line):
                if (relative, match.group(1)) not in NOT_A_STATUS:
                    offenders.append(f"services/router/{relative}:{number}: {line.strip()}")
    assert not offenders, "status literals outside services/router/case.py:\n" + "\n".join(offenders)


def test_the_check_finds_a_status_literal():
    """The pattern above is not vacuous: it matches the way the old code wrote statuses."""
    literal = re.compile(r"""["'](%s)["']""" % "|".join(s.value for s in CaseStatus))
    assert literal.search('updated["status"] = "rejected"')
    assert literal.search("record.get('status') in ('answered', 'resolved')")
