"""What the offline composer says around the cited clauses, per locale.

Only framing lives here (greeting, the intent-specific opening, the lead-in
to alternatives, the hand-off line, the AI disclosure, the holding reply).
Every factual statement in a draft comes from a cited clause, never from
these strings, which is why none of them contains a number or a promise.
"""

from __future__ import annotations

TEMPLATE_VERSION = "drafter-templates-v1"

GREETING = {
    "en": "Hello,", "de": "Hallo,", "fr": "Bonjour,", "es": "Hola:", "lt": "Sveiki,",
}

CLOSING = {
    "en": "If anything is still unclear, just reply to this message.",
    "de": "Wenn noch etwas unklar ist, antworten Sie einfach auf diese Nachricht.",
    "fr": "Si quelque chose n'est pas clair, répondez simplement à ce message.",
    "es": "Si algo no queda claro, responde a este mensaje.",
    "lt": "Jei kas nors dar neaišku, tiesiog atsakykite į šią žinutę.",
}

# EU AI Act Art. 50(1): people must be told they are interacting with an AI system.
DISCLOSURE = {
    "en": "This reply was drafted by an AI assistant on behalf of our support team. You can ask for a human at any time.",
    "de": "Diese Antwort wurde von einem KI-Assistenten im Auftrag unseres Support-Teams verfasst. Sie können jederzeit einen Menschen verlangen.",
    "fr": "Cette réponse a été rédigée par un assistant d'IA pour le compte de notre équipe support. Vous pouvez demander un interlocuteur humain à tout moment.",
    "es": "Esta respuesta la ha redactado un asistente de IA en nombre de nuestro equipo de atención. Puedes pedir hablar con una persona en cualquier momento.",
    "lt": "Šį atsakymą mūsų pagalbos komandos vardu parengė dirbtinio intelekto asistentas. Bet kada galite paprašyti žmogaus pagalbos.",
}

# The lead-in to alternatives is framing: no policy term in it (the verifier's shared
# definition, casetrail.grounding.claims), the alternatives themselves are cited clauses.
ALTERNATIVES_INTRO = {
    "en": "You can also choose one of these options:",
    "de": "Sie können auch eine dieser Möglichkeiten wählen:",
    "fr": "Vous pouvez aussi choisir l'une de ces options :",
    "es": "También puedes elegir una de estas opciones:",
    "lt": "Taip pat galite pasirinkti vieną iš šių galimybių:",
}

# Opening line per intent (the default taxonomy); {about} is "" or " about order X".
OPENERS = {
    "en": {
        "order_status": "Thank you for asking about your order{about}.",
        "return_request": "Thank you for your message about your return{about}.",
        "refund_status": "Thank you for your message about your refund{about}.",
        "refund_policy": "Thank you for your message about your refund{about}.",
        "product_question": "Thank you for your question about our products{about}.",
        "payment_issue": "I'm sorry you ran into a problem with your payment{about}.",
        "account_access": "I'm sorry you are having trouble with your account.",
        "bug_report": "Thank you for reporting this problem.",
        "feedback": "Thank you for your feedback.",
        "invoice": "Thank you for your message about your invoice{about}.",
        "fraud_report": "Thank you for telling us straight away.",
        "transaction_dispute": "Thank you for letting us know that you disagree with this charge{about}.",
        "complaint": "Thank you for your message{about}, and I'm sorry for the trouble.",
        "_default": "Thank you for your message{about}.",
    },
    "de": {
        "order_status": "Vielen Dank für Ihre Frage zu Ihrer Bestellung{about}.",
        "return_request": "Vielen Dank für Ihre Nachricht zu Ihrer Rücksendung{about}.",
        "refund_status": "Vielen Dank für Ihre Nachricht zu Ihrer Erstattung{about}.",
        "refund_policy": "Vielen Dank für Ihre Nachricht zu Ihrer Erstattung{about}.",
        "product_question": "Vielen Dank für Ihre Frage zu unseren Produkten{about}.",
        "payment_issue": "Es tut mir leid, dass es bei Ihrer Zahlung ein Problem gab{about}.",
        "account_access": "Es tut mir leid, dass Sie Probleme mit Ihrem Konto haben.",
        "bug_report": "Vielen Dank, dass Sie uns dieses Problem melden.",
        "feedback": "Vielen Dank für Ihren Vorschlag.",
        "invoice": "Vielen Dank für Ihre Nachricht zu Ihrer Rechnung{about}.",
        "fraud_report": "Vielen Dank, dass Sie uns sofort informieren.",
        "transaction_dispute": "Vielen Dank für den Hinweis, dass Sie mit dieser Abbuchung nicht einverstanden sind{about}.",
        "complaint": "Vielen Dank für Ihre Nachricht{about}, und entschuldigen Sie die Unannehmlichkeiten.",
        "_default": "Vielen Dank für Ihre Nachricht{about}.",
    },
    "fr": {
        "order_status": "Merci pour votre question sur votre commande{about}.",
        "return_request": "Merci pour votre message concernant votre retour{about}.",
        "refund_status": "Merci pour votre message concernant votre remboursement{about}.",
        "refund_policy": "Merci pour votre message concernant votre remboursement{about}.",
        "product_question": "Merci pour votre question sur nos produits{about}.",
        "payment_issue": "Je suis désolé que votre paiement ait posé problème{about}.",
        "account_access": "Je suis désolé que vous ayez des difficultés avec votre compte.",
        "bug_report": "Merci de nous signaler ce problème.",
        "feedback": "Merci pour votre suggestion.",
        "invoice": "Merci pour votre message concernant votre facture{about}.",
        "fraud_report": "Merci de nous avoir prévenus aussitôt.",
        "transaction_dispute": "Merci de nous indiquer que vous contestez ce débit{about}.",
        "complaint": "Merci pour votre message{about}, et désolé pour ce désagrément.",
        "_default": "Merci pour votre message{about}.",
    },
    "es": {
        "order_status": "Gracias por tu consulta sobre tu pedido{about}.",
        "return_request": "Gracias por tu mensaje sobre tu devolución{about}.",
        "refund_status": "Gracias por tu mensaje sobre tu reembolso{about}.",
        "refund_policy": "Gracias por tu mensaje sobre tu reembolso{about}.",
        "product_question": "Gracias por tu pregunta sobre nuestros productos{about}.",
        "payment_issue": "Siento que hayas tenido un problema con el pago{about}.",
        "account_access": "Siento que tengas problemas con tu cuenta.",
        "bug_report": "Gracias por informarnos de este problema.",
        "feedback": "Gracias por tu sugerencia.",
        "invoice": "Gracias por tu mensaje sobre tu factura{about}.",
        "fraud_report": "Gracias por avisarnos enseguida.",
        "transaction_dispute": "Gracias por indicarnos que no estás de acuerdo con este cargo{about}.",
        "complaint": "Gracias por tu mensaje{about}, y perdona las molestias.",
        "_default": "Gracias por tu mensaje{about}.",
    },
    "lt": {
        "order_status": "Dėkojame už klausimą apie jūsų užsakymą{about}.",
        "return_request": "Dėkojame už žinutę dėl prekės grąžinimo{about}.",
        "refund_status": "Dėkojame už žinutę dėl pinigų grąžinimo{about}.",
        "refund_policy": "Dėkojame už žinutę dėl pinigų grąžinimo{about}.",
        "product_question": "Dėkojame už klausimą apie mūsų prekes{about}.",
        "payment_issue": "Apgailestaujame, kad kilo problema su mokėjimu{about}.",
        "account_access": "Apgailestaujame, kad kilo problemų su jūsų paskyra.",
        "bug_report": "Dėkojame, kad pranešėte apie šią problemą.",
        "feedback": "Dėkojame už pasiūlymą.",
        "invoice": "Dėkojame už žinutę dėl sąskaitos{about}.",
        "fraud_report": "Dėkojame, kad nedelsdami pranešėte.",
        "transaction_dispute": "Dėkojame, kad pranešėte nesutinkantys su šiuo nuskaitymu{about}.",
        "complaint": "Dėkojame už žinutę{about} ir atsiprašome už nepatogumus.",
        "_default": "Dėkojame už žinutę{about}.",
    },
}

ABOUT_ORDER = {
    "en": " (order {order})", "de": " (Bestellung {order})", "fr": " (commande {order})",
    "es": " (pedido {order})", "lt": " (užsakymas {order})",
}

# Holding replies: no draft could be grounded; a person answers. Never empty.
HOLDING = {
    "en": "Thank you for your message. A member of our support team will look at it and reply to you personally.",
    "de": "Vielen Dank für Ihre Nachricht. Eine Person aus unserem Support-Team sieht sie sich an und antwortet Ihnen persönlich.",
    "fr": "Merci pour votre message. Un membre de notre équipe support va l'examiner et vous répondre personnellement.",
    "es": "Gracias por tu mensaje. Una persona de nuestro equipo de atención lo revisará y te responderá personalmente.",
    "lt": "Dėkojame už žinutę. Mūsų pagalbos komandos narys ją peržiūrės ir jums atsakys asmeniškai.",
}


def text_for(table: dict[str, str], locale: str) -> str:
    """The locale's text, English when the locale has none (never empty)."""
    return table.get(locale) or table["en"]


def opener(locale: str, intent: str, order: str | None) -> str:
    openers = OPENERS.get(locale) or OPENERS["en"]
    template = openers.get(intent) or openers["_default"]
    about = text_for(ABOUT_ORDER, locale).format(order=order) if order else ""
    return template.format(about=about)
