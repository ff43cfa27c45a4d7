"""The committed evaluation set meets the issue's goals with the real detectors."""

from services.verifier.offline.evaluation import eval_verifier, evaluate, load_records

from verifier_fixtures import REPO


def test_adversarial_set_is_large_enough_and_covers_every_locale():
    adversarial = load_records("adversarial")
    assert len(adversarial) >= 60
    assert {r["locale"] for r in adversarial} == {"en", "de", "fr", "es", "lt"}
    required = {"wrong_number", "fabricated_clause", "other_version", "other_locale", "injection_echo",
                "leaked_email", "missing_disclosure", "wrong_language", "uncited_claim"}
    assert required <= {r["kind"] for r in adversarial}


def test_adversarial_caught_and_correct_passed():
    verifier = eval_verifier(REPO / "config" / "tenants")
    report = evaluate(verifier, load_records("correct"), load_records("adversarial"))
    assert report.caught_rate == 1.0, report.misses
    assert report.pass_rate >= 0.98, report.misses
