"""Out-of-hours acknowledgement: tells the customer, in their language, when a human answers.

The time is rendered with Babel (CLDR) in the customer's time zone when the
ticket names one, else in the team's. The text says it is automated (EU AI
Act Art. 50 transparency) and promises nothing beyond the opening time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_name

TEMPLATES: dict[str, str] = {
    "en": (
        "Thank you for your message. Our support team is outside its working hours right now; "
        "a member of the team will answer you after we open on {when}. "
        "This is an automated acknowledgement."
    ),
    "de": (
        "Vielen Dank für Ihre Nachricht. Unser Support-Team ist gerade außerhalb seiner Arbeitszeiten; "
        "eine Mitarbeiterin oder ein Mitarbeiter antwortet Ihnen, sobald wir am {when} öffnen. "
        "Dies ist eine automatische Eingangsbestätigung."
    ),
    "fr": (
        "Merci pour votre message. Notre équipe d’assistance est actuellement en dehors de ses heures d’ouverture ; "
        "un membre de l’équipe vous répondra après notre ouverture le {when}. "
        "Ceci est un accusé de réception automatique."
    ),
    "es": (
        "Gracias por su mensaje. Nuestro equipo de soporte está fuera de su horario de atención; "
        "un miembro del equipo le responderá cuando abramos el {when}. "
        "Este es un acuse de recibo automático."
    ),
    "lt": (
        "Dėkojame už jūsų žinutę. Mūsų pagalbos komanda šiuo metu nedirba; "
        "komandos narys jums atsakys, kai pradėsime darbą {when}. "
        "Tai automatinis gavimo patvirtinimas."
    ),
}
FALLBACK_LOCALE = "en"


def _zone(name: Optional[str]) -> Optional[ZoneInfo]:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1024)  # a handful of opening times x locales x zones: CLDR formatting once each
def format_opening(when: dt.datetime, locale: str, zone: ZoneInfo) -> str:
    local = when.astimezone(zone)
    return (
        f"{format_date(local, 'full', locale=locale)}, {format_time(local, 'short', locale=locale)} "
        f"({get_timezone_name(local, 'long', locale=locale)})"
    )


def acknowledgement_text(
    opens_at: dt.datetime, locale: str, team_zone: ZoneInfo, customer_zone: Optional[str] = None
) -> tuple[str, str]:
    """(text, locale used). Unsupported locales get the fallback language."""
    used = locale if locale in TEMPLATES else FALLBACK_LOCALE
    zone = _zone(customer_zone) or team_zone
    return TEMPLATES[used].format(when=format_opening(opens_at, used, zone)), used
