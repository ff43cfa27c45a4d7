from prometheus_client import REGISTRY

from services.verifier import metrics
from services.verifier.checks import CheckDependencies
from services.verifier.engine import build_verifier
from casetrail.grounding.sentences import marker_refs, normalise, split_sentences

from verifier_fixtures import fake_pii, make_event


def test_marker_after_the_full_stop_belongs_to_the_sentence_before():
    sentences = split_sentences("Hello [NAME_1],\nYou can return items within 30 days. [refunds.window@1+abc] "
                                "Refunds take 14 days.")
    assert [s.refs for s in sentences] == [[], ["refunds.window@1+abc"], []]
    assert sentences[1].plain == "You can return items within 30 days."


def test_abbreviations_and_decimals_do_not_split():
    texts = [s.plain for s in split_sentences("Z. B. kostet der Versand 4.95 EUR. Danach z. B. nichts mehr.")]
    assert len(texts) == 2
    lt = [s.plain for s in split_sentences("Skambinkite iki 2026 m. kovo 15 d. darbo valandomis. Ačiū.")]
    assert len(lt) == 2


def test_several_refs_in_one_marker_and_normalisation():
    assert marker_refs("x [a.b@1+x; c.d@1+x]") == ["a.b@1+x", "c.d@1+x"]
    assert normalise("You can return  items. [a.b@1+x]") == normalise("you can return items")


def _sample(name, labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_failures_are_counted_by_check_name(policy, resolver):
    verifier = build_verifier(policy, CheckDependencies(resolver=resolver, pii_detector=fake_pii,
                                                        language_identifier=lambda text, fast=False: [("en", 1.0)]))
    labels = {"tenant": "acme-shop", "check": "statements_supported", "severity": "failed"}
    before = _sample("casetrail_verifier_check_failures_total", labels)
    report = verifier.verify(make_event("You can return any item within 60 days."))
    metrics.record_verdict("acme-shop", "refund_policy", "en", report)
    assert _sample("casetrail_verifier_check_failures_total", labels) == before + 1
    assert _sample("casetrail_verifier_verdicts_total", {"tenant": "acme-shop", "verdict": "failed",
                                                         "category": "refund_policy", "locale": "en"}) >= 1


def test_the_handler_counts_its_verdict_only_once_the_record_committed(policy, resolver, monkeypatch):
    """A batch aborted and verified again must count its verdict once: the handler leaves it to ctx.after_commit."""
    from services.verifier import app
    from services.verifier.engine import build_verifiers
    from casetrail.runtime import RecordContext

    monkeypatch.setattr(app, "verifiers", build_verifiers({"acme-shop": policy}, CheckDependencies(
        resolver=resolver, pii_detector=fake_pii, language_identifier=lambda text, fast=False: [("en", 1.0)])))
    ctx = RecordContext(service=app.svc, topic="drafts.proposed", partition=0, offset=1, key=b"k", value=b"",
                        headers={}, timestamp=None)
    labels = {"tenant": "acme-shop", "verdict": "failed", "category": "refund_policy", "locale": "en"}
    before = _sample("casetrail_verifier_verdicts_total", labels)
    app.svc.current_partition = 0
    try:
        [output] = app.verify(make_event("You can return any item within 60 days."), ctx)
    finally:
        app.svc.current_partition = None
        app.drafts.drop({0})
    assert output.event.verification.verdict.value == "failed"
    assert _sample("casetrail_verifier_verdicts_total", labels) == before  # not yet committed
    for committed in ctx._after_commit:
        committed()
    assert _sample("casetrail_verifier_verdicts_total", labels) == before + 1
