"""The console speaks en, de, fr, es and lt: the same keys everywhere, placeholders kept, dates localised."""

import datetime as dt
import re

import pytest

from services.review.config import UI_LOCALES
from services.review.i18n import catalogue, pick_locale, translator


def test_every_locale_has_every_key_with_the_same_placeholders():
    english = catalogue("en")
    for locale in UI_LOCALES:
        messages = catalogue(locale)
        assert set(messages) == set(english), locale
        for key, text in english.items():
            assert set(re.findall(r"{(\w+)}", messages[key])) == set(re.findall(r"{(\w+)}", text)), (locale, key)


def test_the_interface_keys_used_by_the_templates_exist():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[3] / "services" / "review" / "templates"
    used = {key for path in templates.glob("*.html") for key in re.findall(r'\bt\("(\w+)"', path.read_text())
            if not key.endswith("_")}  # "state_" ~ value: every value's key is checked below
    assert used and used <= set(catalogue("en")), used - set(catalogue("en"))
    from services.review.cases import CaseState
    from services.review.config import ROLES
    from services.review.pages import REJECTION_REASONS

    composed = ({f"state_{s.value}" for s in CaseState} | {f"role_{r}" for r in ROLES}
                | {f"reason_{r}" for r in REJECTION_REASONS} | {f"verdict_{v}" for v in ("passed", "failed", "needs_human")}
                | {f"done_{a}" for a in ("approve", "edit", "reject", "reassign", "escalate")})
    assert composed <= set(catalogue("en")), composed - set(catalogue("en"))


@pytest.mark.parametrize("locale, expected", [("en", "11/25/26, 10:00 AM"), ("de", "25.11.26, 10:00"),
                                              ("lt", "2026-11-25 10:00")])
def test_dates_are_localised_in_the_tenants_time_zone(locale, expected):
    moment = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
    assert translator(locale, "Europe/Vilnius").datetime(moment).replace("\u202f", " ") == expected


def test_numbers_and_the_chosen_locale():
    assert translator("de").number(0.25) == "0,25"
    assert translator("fr").percent(0.5).replace("\u202f", " ").replace("\xa0", " ") == "50 %"
    assert pick_locale(None, "xx", "lt-LT,lt;q=0.9,en;q=0.8") == "lt"
    assert pick_locale("es", "de") == "es"


def test_the_routers_brief_signals_have_labels_in_every_locale():
    """Every signal the router's brief carries that the triage panel does not show in its own rows."""
    from services.review.pages import SHOWN_SIGNALS

    brief_signals = set(re.findall(r'signals\["([\w.]+)"\]|^\s+"([\w.]+)": ', _router_brief_source(), re.M))
    names = {a or b for a, b in brief_signals} - SHOWN_SIGNALS
    assert names, "no brief signals found in services/router/brief.py"
    for locale in UI_LOCALES:
        missing = {name for name in names if f"signal_{name.replace('.', '_')}" not in catalogue(locale)}
        assert not missing, (locale, missing)
    assert translator("de").signal("sla_state") == "SLA-Status"
    assert translator("en").signal("new_signal_name") == "New signal name"


def _router_brief_source() -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "services" / "router" / "brief.py").read_text()
    return text[text.index("def _signals"):text.index("def suggested_actions")]
