"""``casetrail eval triage``'s figures: halves by id parity, confident-wrong, eligibility, locale."""

from casetrail.events.triage import TriageResult
from casetrail.policy.tenant import load_policy
from casetrail.settings import REPO_ROOT
from casetrail_tools.decision_eval.dev_halves import half_of
from casetrail_tools.decision_eval.tickets import EvalTicket, Expected
from casetrail_tools.triage_eval.figures import summarise
from casetrail_tools.triage_eval.inputs import TriagedTicket

POLICY = load_policy(REPO_ROOT / "config" / "tenants" / "acme-shop.yaml")


def item(ticket_id, expected, predicted, confidence, *, human=False, locale="en", detected="en", oos=False,
         language="en", sentiment=0.0, expected_sentiment=None):
    ticket = EvalTicket(id=ticket_id, text="x", expected=Expected(category=expected, human=human, locale=locale,
                                                                   sentiment=expected_sentiment))
    result = TriageResult(intent=predicted, intent_confidence=confidence, category=predicted, out_of_scope=oos,
                          language=language, sentiment=sentiment)
    return TriagedTicket(ticket, half_of(ticket_id), detected, "detected", result, "x", None)


def test_halves_follow_the_id_parity():
    assert half_of("dev-en-0001") == "tune" and half_of("dev-lt-0320") == "check"
    assert half_of("dev-fr-0013") == "tune" and half_of("no-number") == "tune"


def test_confident_wrong_eligibility_and_locale_per_half():
    items = [
        item("t-1", "delivery_time", "order_status", 0.95),  # wrong above order_status's 0.78: confident-wrong
        item("t-3", "delivery_time", "delivery_time", 0.85),  # right and eligible
        item("t-5", "contact_human", "order_status", 0.90, human=True),  # must reach a human, yet eligible
        item("t-7", "contact_human", "contact_human", 0.99, human=True),  # always_human: never eligible
        item("t-9", "out_of_scope", "out_of_scope", 0.70, human=True, oos=True, detected="und", language="unknown"),
        item("t-2", "invoice", "invoice", 0.50, sentiment=-0.8, expected_sentiment="neutral"),  # check half
    ]
    report = summarise(items, POLICY)
    tune, check = report["tune"]["overall"], report["check"]["overall"]
    assert tune["tickets"] == 5 and check["tickets"] == 1 and report["all"]["overall"]["tickets"] == 6
    assert tune["accuracy"] == 0.6 and tune["confident_wrong"] == 2
    assert tune["eligible"] == 3 and tune["eligible_precision"] == round(1 / 3, 4)
    assert tune["must_reach_human"] == 3 and tune["human_eligible"] == 1
    assert tune["answerable"] == 2 and tune["answerable_coverage"] == 0.5
    assert tune["out_of_scope_recall"] == 1.0
    assert tune["locale_accuracy"] == 0.8 and tune["locale_unknown_rate"] == 0.2
    assert check["eligible"] == 0  # below invoice's threshold
    assert check["very_negative_accuracy"] == 0.0 and check["neutral_very_negative_rate"] == 1.0
    by_category = report["tune"]["by_category"]
    assert by_category["delivery_time"]["accuracy"] == 0.5 and by_category["contact_human"]["human_eligible"] == 1
    assert report["tune"]["confusions"][0] == {"expected": "delivery_time", "predicted": "order_status", "count": 1}


def test_calibration_fits_on_the_tune_half_only():
    import numpy as np

    from casetrail_tools.triage_eval.calibration import calibrate
    from services.triage.intent_model import TrainConfig, train

    rng = np.random.default_rng(1)
    phrases = {"order_status": "where is my parcel", "invoice": "send the invoice", "out_of_scope": "tell a joke"}
    centres = {label: rng.normal(size=8) for label in phrases}

    def sample(label, n):
        vectors = np.asarray([centres[label] + rng.normal(scale=0.9, size=8) for _ in range(n)], dtype=np.float32)
        return [f"{phrases[label]} {i}" for i in range(n)], vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    texts, labels, vectors = [], [], []
    for label in phrases:
        t, v = sample(label, 12)
        texts += t; labels += [label] * 12; vectors.append(v)
    model = train(texts, labels, np.vstack(vectors), "e", name="cal", config=TrainConfig(C=1.0, folds=3))
    items = []
    for n, label in enumerate(["order_status", "invoice", "out_of_scope"] * 10, start=1):
        (text,), vector = sample(label, 1)
        ticket = EvalTicket(id=f"dev-en-{n:04d}", text=text, expected=Expected(category=label))
        items.append(TriagedTicket(ticket, half_of(ticket.id), "en", "detected", None, text, vector[0]))
    recalibrated, figures = calibrate(model, items)
    assert figures["tickets"] == 15  # odd ids only
    assert recalibrated.temperature == figures["temperature"] or \
        abs(recalibrated.temperature - figures["temperature"]) < 1e-3
    assert recalibrated.meta["calibration"]["fitted_on"].startswith("dev set TUNE half")
    # changing a CHECK-half ticket's label changes nothing
    flipped = [i if i.half == "tune" else TriagedTicket(EvalTicket(id=i.ticket.id, text=i.text,
               expected=Expected(category="invoice")), i.half, "en", "detected", None, i.text, i.embedding)
               for i in items]
    assert calibrate(model, flipped)[1] == figures


def test_triage_tickets_feeds_the_triager_and_keeps_what_it_read():
    """The real normaliser, a stand-in triager: the text kept is the conversation's ticket text."""
    import datetime as dt
    from types import SimpleNamespace

    from casetrail_tools.triage_eval.inputs import triage_tickets
    from services.ingest.locale_detection import LocaleDetector
    from services.ingest.normalise import Normaliser

    class StubTriager:
        seen = []

        def triage(self, received, history, policy, now):
            self.seen.append(received.conversation.ticket_text())
            return SimpleNamespace(result=TriageResult(intent="invoice", intent_confidence=0.9, category="invoice",
                                                       out_of_scope=False, language="en", sentiment=0.0))

    ticket = EvalTicket(id="dev-en-0001", text="please resend the invoice for my last order", subject="Invoice",
                        expected=Expected(category="invoice"))
    detector = LocaleDetector()
    detector.warm_up()  # as the command does: the first detection loads the models, past ingest's per-record budget
    normaliser = Normaliser(locale_detector=detector, default_locales={"acme-shop": POLICY.default_locale})
    triager = StubTriager()
    [out] = triage_tickets([ticket], triager, POLICY, normaliser, at=dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc))
    assert out.result is not None, out.reason
    assert out.result.category == "invoice" and out.half == "tune"
    assert "resend the invoice" in out.text and out.text in triager.seen[0]
