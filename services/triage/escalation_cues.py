"""Requests a person must handle, read from the words themselves: asking for a human,
threatening legal action, disputing a charge with the bank.

Rule-based on purpose, beside the intent model rather than instead of it: these are
the requests that must never get an automatic answer, a classifier can be wrong with
high confidence, and an auditor must be able to see the phrase that decided (the
matched cue is returned). Each cue is a phrase, not a single word, so a customer who
mentions "the person who delivered" or "my court shoes" is not taken for one. Accents
are optional (people type "necesito hablar con un humano" and "zmogus").

The flags (``asks_for_human``, ``legal_threat``, ``chargeback``) travel in the triage
result; tenant routing rules read them (``'asks_for_human' in flags``), so what happens
to such a ticket is configuration, not code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

ASKS_FOR_HUMAN = "asks_for_human"
LEGAL_THREAT = "legal_threat"
CHARGEBACK = "chargeback"

_PERSON_EN = r"(?:a |an |some |one of your |your )?(?:real |actual |live |human |proper )?(?:human|person|people|agent|representative|rep|someone|somebody|operator|manager|supervisor|employee|staff member|colleague)"
_CUES: dict[str, list[str]] = {
    ASKS_FOR_HUMAN: [
        # the whole message is a request for a person ("agent", "mitarbeiter bitte", "zmogu prasau")
        r"^\W*(?:hallo\W+|alio\W+|hello\W+)?(?:an? )?(?:agent|human|person|operator|mensch|mitarbeiter|humain|humano|persona|"
        r"operador|zmogu|zmogus|zmogaus|operatori\w*)(?:\W+(?:please|pls|bitte|svp|por favor|prasau))?\W*$",
        # en
        rf"(?:talk|speak|chat|get through)(?: directly)? (?:to|with) {_PERSON_EN}",
        r"real (?:person|human)", r"human (?:agent|being|support|contact)", r"(?:not|no) (?:a |an )?(?:bot|robot|ai|machine|automated)",
        r"(?:pass|forward|escalate|transfer) (?:this|me|my \w+)(?: message| request)? to (?:a |an )?(?:human|person|agent|manager|supervisor|colleague)",
        r"your (?:phone|telephone|hotline|contact|whatsapp|customer service|support) (?:number|nr|line)|(?:customer service|support) (?:phone |telephone )?(?:number|line)",
        r"call me(?: back)?", r"can i (?:call|phone)", r"contact me by (?:tele)?phone", r"who do i (?:actually )?(?:talk|speak|write) to",
        r"(?:message|write to|reach) a (?:person|human) directly", r"chat ?bot", r"automatic (?:answers|replies|reply)",
        r"whats ?app|hotline|live[- ]?chat",
        r"contact (?:your )?(?:customer (?:service|support|care)|support team|a human)",
        r"how (?:can|do) i (?:reach|contact|call) (?:you|someone|somebody|customer service|support)",
        # de
        r"mit (?:einem|einer|jemand\w*|einen) (?:echten |richtigen |lebenden )?(?:mensch\w*|mitarbeiter\w*|person|sachbearbeiter\w*|berater\w*|vorgesetzten)",
        r"(?:mensch\w*|mitarbeiter\w*|vorgesetzten|person) (?:sprechen|reden|verbunden|verbinden)",
        r"(?:kein\w*|nicht mit (?:einem|einer)) (?:bot|roboter|ki|maschine|automat\w*)", r"echte\w* (?:mensch|person)",
        r"(?:ihre|eure|deren|die) telefonnummer|telefonnummer (?:des|vom|von ihrem|fur den|für den) (?:kunden\w*|support)",
        r"(?:ruf\w*|rufen sie) mich (?:bitte |heute |noch )*(?:an|zurueck|zurück)|ruckruf|rückruf",
        r"kunden(?:service|dienst) (?:erreichen|kontaktieren|anrufen)", r"wie erreich\w* ich", r"wie kontaktiere ich",
        r"(?:mit )?jemand\w* (?:direkt |personlich |persönlich )?(?:sprechen|reden|besprechen)", r"vorgesetzten",
        r"menschen (?:direkt )?schreiben", r"persönlich vorbei|personlich vorbei",
        # fr
        r"(?:parler|discuter) (?:a|à|avec) (?:un |une |quelqu)(?:e )?(?:vrai\w* |veritable\w* )?(?:humain|personne|conseill\w*|agent|responsable|interlocut\w*|'?un)",
        r"(?:un|une) (?:vrai\w*|veritable) (?:personne|humain|conseill\w*)", r"pas (?:un|a un|à un|avec un) (?:robot|bot|automate)",
        r"votre numero de (?:telephone|tel)|numero (?:whatsapp|du service client)", r"(?:rappelez|appelez)[- ]moi|me rappeler|vous appeler",
        r"joindre (?:le |votre )?service client|service client (?:est )?joignable|ecrire directement a votre service client",
        r"contacter (?:le |votre )?service client", r"comment (?:vous )?(?:joindre|contacter)", r"de vive voix",
        r"(?:que des|tout des|seulement des) (?:robots|bots)|reponses automatiques", r"avec une personne",
        # es
        r"hablar (?:con|a) (?:un |una |algun\w* )?(?:humano|persona|agente|asesor\w*|encargad\w*|supervisor\w*|operador\w*|responsable)",
        r"hablar con alguien",
        r"(?:una|un) (?:persona|humano) (?:de verdad|real)", r"no (?:con )?(?:un |una )?(?:robot|bot|maquina|máquina)",
        r"(?:su|vuestro|un) numero de (?:telefono|contacto|whatsapp)|telefono de atencion", r"(?:llamadme|llamenme|llamame)|me (?:podria|puede|pueden|podrian) llamar",
        r"(?:contactar|comunicarme) con (?:atencion|el servicio|ustedes|alguien)", r"como (?:los |les |puedo )?(?:contacto|contactar|llamar)",
        r"atienden por telefono|atencion telefonica|me atienda una persona|una persona de atencion", r"(?:todo|son) (?:bots|robots)",
        # lt
        r"(?:kalbeti|kalbėti|pasikalbeti|pasikalbėti|susisiekti) su (?:tikru |gyvu )?(?:zmogumi|žmogumi|operatorium\w*|konsultant\w*|darbuotoj\w*|vadov\w*|kuo nors)",
        r"(?:tikr\w*|gyv\w*) (?:zmog\w*|žmog\w*)", r"ne (?:su )?(?:robot\w*|bot\w*)", r"jusu telefono numer\w*",
        r"(?:pa|per)skambin\w*", r"kaip (?:su jumis )?susisiekti", r"klientu aptarnavim\w*", r"tel\.? nr",
        r"su kuo nors tiesiogiai|parasyti zmogui|gyva pokalbi|automatiniu atsakym\w*", r"jusu vadov\w*", r"sujunkit\w* su",
    ],
    LEGAL_THREAT: [
        # en
        r"(?:my |a )?(?:lawyer|attorney|solicitor|legal counsel)", r"(?:i(?:'ll| will)|going to|gonna|we will|we'll) sue|sue you|\bsuing\b", r"(?:take|taking) (?:you|this|legal) (?:to court|action)",
        r"legal (?:action|steps|proceedings)", r"small claims", r"court\b(?! shoes)", r"consumer (?:protection|ombudsman|authority|rights (?:agency|organisation|organization))",
        r"trading standards", r"european consumer cent(?:re|er)",
        # de
        r"(?:mein\w* )?(?:rechts)?anwalt\w*", r"\bklage\b|\bverklagen\b|\bklagen\b", r"gericht\w*", r"rechtliche\w* schritte",
        r"verbraucherzentrale|verbraucherschutz", r"mahnverfahren", r"inkasso",
        # fr
        r"(?:mon )?avocat", r"poursuite\w* (?:judiciaire|en justice)|poursuivre en justice|en justice", r"tribunal", r"mise en demeure",
        r"dgccrf|ufc[- ]que choisir|association de consommateurs|mediateur de la consommation|médiateur de la consommation",
        # es
        r"(?:mi )?abogad\w*", r"demand\w* (?:judicial|ante|a la empresa)|\bdenunciar\b|\bdenuncia\b", r"tribunal\w*|juzgado",
        r"acciones legales|medidas legales|via judicial|vía judicial", r"\bomic\b|oficina (?:municipal )?del consumidor|(?:ante|en|a) consumo\b|facua|\bocu\b",
        # lt
        r"advokat\w*|teisinink\w*", r"\bteism\w*", r"ieskin\w*|ieškin\w*", r"vvtat|vartotoju teisiu|vartotojų teisių",
        r"kreipsiuosi (?:i|į) (?:teism\w*|policij\w*|tarnyb\w*)",
    ],
    CHARGEBACK: [
        # en
        r"charge ?back", r"(?:dispute|disputed|disputing) (?:the |this |a )?(?:charge|payment|transaction)(?: with)?", r"(?:my|the) bank (?:to )?(?:reverse|dispute|cancel)",
        r"reverse (?:the |this )?(?:charge|payment)", r"paypal (?:dispute|claim|case)",
        # de
        r"r(?:ü|ue)ckbuchung|lastschrift\w* (?:zur(?:ü|ue)ck|widerruf\w*)|zur(?:ü|ue)ckbuchen|zur(?:ü|ue)ckgebucht",
        r"(?:bank|kreditkarte\w*) (?:widerspr\w*|reklamier\w*)", r"widerspruch (?:bei|über) (?:der|meine\w*|die) (?:bank|kreditkart\w*)", r"kaeuferschutz|käuferschutz",
        # fr
        r"retrofacturation|rétrofacturation|(?:fait|faire) (?:une )?opposition", r"contest\w* (?:le |la |ce |cette )?(?:paiement|prelevement|prélèvement|debit|débit|transaction)",
        r"litige (?:paypal|bancaire|aupres|auprès)",
        # es
        r"contracargo|retrocesi(?:o|ó)n", r"reclam\w* (?:el cargo |el pago )?(?:a|al|con|en) (?:mi |el )?banco", r"disputa (?:con|en) (?:el |mi )?(?:banco|paypal)",
        r"anular (?:el )?(?:cargo|pago) (?:con|en|desde) (?:el |mi )?banco",
        # lt
        r"(?:ginc\w*|ginč\w*) (?:mokejim\w*|mokėjim\w*|operacij\w*)", r"bank\w* (?:atsauk\w*|grazin\w*|grąžin\w*|ginc\w*|ginč\w*)",
        r"(?:kreipiausi|kreipsiuosi) (?:i|į) bank\w*",
    ],
}


def _fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed: cues match what people type."""
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped.casefold())


def _compile(patterns: list[str]) -> re.Pattern:
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{_fold(p)})" for p in patterns) + r")", re.IGNORECASE)


_COMPILED = {flag: _compile(patterns) for flag, patterns in _CUES.items()}


@dataclass(frozen=True)
class EscalationCues:
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # "<flag>: <matched phrase>"


def detect_escalation_cues(text: str) -> EscalationCues:
    folded = _fold(text or "")
    flags, reasons = [], []
    for flag, pattern in _COMPILED.items():
        match = pattern.search(folded)
        if match:
            flags.append(flag)
            reasons.append(f"{flag}: {match.group(0).strip()}")
    return EscalationCues(flags, reasons)
