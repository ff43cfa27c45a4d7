"""Triage uses the intent model the gate promoted for a tenant, the default for the others."""

import datetime as dt
import json
from pathlib import Path

import pytest

from casetrail.events import AuthorRole, Conversation, ConversationReceived, CustomerContext, Message, ProducerInfo
from casetrail.policy.tenant import load_policy
from casetrail.promotions import PromotedVersions
from casetrail.settings import REPO_ROOT
from services.triage.intent_model import JSON_NAME
from services.triage.promoted_models import (
    IntentModelChoice, PromotedModelError, intent_model_choices, load_promoted_models,
)
from services.triage.triager import Triager, triaged_event

DEFAULT = Path("/models/default")
AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def promotions_file(tmp_path: Path, *verdicts: tuple[str, str, str, str]) -> dict:
    """The promotions file the gate writes for ``(tenant, version, source, outcome)`` verdicts, read back."""
    registry = PromotedVersions(tmp_path / "promoted.json")
    for tenant, version, source, outcome in verdicts:
        registry.record(tenant, "intent_model", version=version, source=source, outcome=outcome, error_rate=0.1)
    return registry.read()


# -- the choice (pure) ------------------------------------------------------------------------

def test_no_promotions_file_means_the_default_model_for_everyone(tmp_path):
    assert PromotedVersions(tmp_path / "absent.json").read() == {}
    assert intent_model_choices({}, ["acme-shop", "other"], DEFAULT) == {
        "acme-shop": IntentModelChoice(DEFAULT), "other": IntentModelChoice(DEFAULT)}


def test_a_promoted_model_serves_its_tenant_only(tmp_path):
    content = promotions_file(tmp_path, ("acme-shop", "intents-v2", "/models/v2", "promoted"))
    assert intent_model_choices(content, ["acme-shop", "other"], DEFAULT) == {
        "acme-shop": IntentModelChoice(Path("/models/v2"), "intents-v2"), "other": IntentModelChoice(DEFAULT)}


def test_a_refused_candidate_is_never_chosen(tmp_path):
    only_refused = promotions_file(tmp_path / "a", ("acme-shop", "intents-bad", "/models/bad", "refused"))
    assert intent_model_choices(only_refused, ["acme-shop"], DEFAULT) == {"acme-shop": IntentModelChoice(DEFAULT)}
    refused_after_a_promotion = promotions_file(
        tmp_path / "b", ("acme-shop", "intents-v2", "/models/v2", "promoted"),
        ("acme-shop", "intents-bad", "/models/bad", "refused"))
    assert intent_model_choices(refused_after_a_promotion, ["acme-shop"], DEFAULT) == {
        "acme-shop": IntentModelChoice(Path("/models/v2"), "intents-v2")}


def test_a_malformed_promotions_file_is_a_clear_error(tmp_path):
    path = tmp_path / "promoted.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="promotions file .*promoted.json: unreadable"):
        PromotedVersions(path).read()


# -- loading --------------------------------------------------------------------------------------

def test_a_missing_promoted_folder_stops_start_up_naming_tenant_and_version(tmp_path):
    choices = {"acme-shop": IntentModelChoice(tmp_path / "gone", "intents-v2")}
    with pytest.raises(PromotedModelError, match="tenant acme-shop: the promoted intent model intents-v2 has no folder"):
        load_promoted_models(choices)


def test_an_unreadable_promoted_folder_stops_start_up_naming_tenant_and_version(tmp_path):
    (tmp_path / "empty").mkdir()
    choices = {"acme-shop": IntentModelChoice(tmp_path / "empty", "intents-v2")}
    with pytest.raises(PromotedModelError, match="tenant acme-shop: the promoted intent model intents-v2 cannot be loaded"):
        load_promoted_models(choices)


def test_each_promoted_folder_is_loaded_once_and_the_default_not_at_all(tmp_path):
    (tmp_path / "v2").mkdir()
    loads: list[Path] = []

    def load(directory: Path):
        loads.append(directory)
        return object()

    choices = {"a": IntentModelChoice(tmp_path / "v2", "v2"), "b": IntentModelChoice(tmp_path / "v2", "v2"),
               "c": IntentModelChoice(DEFAULT)}
    promoted = load_promoted_models(choices, load=load)
    assert loads == [tmp_path / "v2"] and sorted(promoted) == ["a", "b"]
    assert promoted["a"].model is promoted["b"].model and promoted["a"].promoted == "v2"


# -- the triager with a real promoted model ------------------------------------------------------

@pytest.fixture(scope="module")
def base():
    return Triager.default()


@pytest.fixture(scope="module")
def policy():
    return load_policy(REPO_ROOT / "config" / "tenants" / "acme-shop.yaml")


@pytest.fixture(scope="module")
def cautious_model(base, tmp_path_factory) -> Path:
    """The default model with an out-of-scope threshold nothing reaches: every ticket goes to a person."""
    folder = tmp_path_factory.mktemp("promoted") / "intents-cautious"
    base.intent_model.recalibrated(base.intent_model.temperature, 1.01, {"why": "test"}).save(folder)
    return folder


def _event(tenant: str, text: str = "Where is my order? Please send me the tracking number.") -> ConversationReceived:
    return ConversationReceived(
        conversation_id=f"{tenant}-1", tenant=tenant, locale="en", producer=ProducerInfo(service="t", version="0"),
        conversation=Conversation(
            source="generic", external_id="1", channel="email", received_at=AT,
            messages=[Message(message_id="m", author_role=AuthorRole.customer, sent_at=AT, body_text=text)],
            customer=CustomerContext(customer_id="cust"),
        ),
    )


def test_the_promoted_model_triages_its_tenant_and_the_event_names_it(base, policy, cautious_model, tmp_path):
    content = promotions_file(tmp_path, ("acme-shop", "intents-cautious", str(cautious_model), "promoted"))
    triager = Triager.with_promotions(content, ["acme-shop", "other-shop"], base.embedder)
    promoted = triager.triage(_event("acme-shop"), None, policy)
    assert promoted.result.out_of_scope and promoted.result.intent == "out_of_scope"
    model = triager.promoted_intent_models["acme-shop"].model
    assert promoted.model_version == f"intents-cautious={model.version}+{base.sentiment_model.version}+{base.embedder.name}"
    assert triaged_event(_event("acme-shop"), promoted, policy, ProducerInfo(service="triage", version="0")
                         ).versions.model == promoted.model_version
    # another tenant (no promotion) is triaged as today, with today's version string
    unpromoted = triager.triage(_event("other-shop"), None, policy)
    assert unpromoted.result.intent == "order_status" and not unpromoted.result.out_of_scope
    assert unpromoted.model_version == base.model_version


def test_without_promotions_the_triager_is_todays(base, policy):
    triager = Triager.with_promotions({}, ["acme-shop"], base.embedder)
    assert triager.promoted_intent_models == {} and triager.model_version == base.model_version
    assert triager.intent_model.version == base.intent_model.version
    outcome = triager.triage(_event("acme-shop"), None, policy)
    assert outcome.result == base.triage(_event("acme-shop"), None, policy).result


def test_a_promoted_model_for_another_embedder_stops_start_up(base, cautious_model, tmp_path):
    other = tmp_path / "intents-other-embedder"
    other.mkdir()
    for file in cautious_model.iterdir():
        (other / file.name).write_bytes(file.read_bytes())
    meta = json.loads((other / JSON_NAME).read_text())
    (other / JSON_NAME).write_text(json.dumps({**meta, "embedder": "another-embedder"}))
    content = promotions_file(tmp_path, ("acme-shop", "intents-other", str(other), "promoted"))
    with pytest.raises(PromotedModelError, match="tenant acme-shop: the promoted intent model intents-other .*"
                                                 "trained on embeddings of 'another-embedder'"):
        Triager.with_promotions(content, ["acme-shop"], base.embedder)

