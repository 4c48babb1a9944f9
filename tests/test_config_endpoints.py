"""MODEL_ENDPOINTS as an admin writes it: parsed, defaulted, and a typo named by its entry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.app import build_classifier, build_toolkit
from bot.config import Settings
from bot.config_endpoints import EndpointSpec, EndpointSpecError, parse_endpoints
from bot.core.classifier.ollama import OllamaTier
from bot.core.classifier.openai_compat import OpenAICompatTier
from bot.core.classifier.pool import EndpointPool


def test_the_documented_example_parses():
    text = "ollama=http://10.0.0.5:11434;slots=2, ollama=http://10.0.0.6:11434;slots=1"
    assert parse_endpoints(text) == [
        EndpointSpec("ollama", "http://10.0.0.5:11434", 2),
        EndpointSpec("ollama", "http://10.0.0.6:11434", 1),
    ]


def test_options_and_tiers():
    specs = parse_endpoints(
        " openai=https://gpu.example.org/v1 ; slots=4 ; model=openai/gpt-oss-safeguard-120b ; tier=120b,"
        "ollama=http://h:11434;model=gpt-oss-safeguard:20b,"
    )
    assert specs == [
        EndpointSpec("openai", "https://gpu.example.org/v1", 4, "openai/gpt-oss-safeguard-120b", 2),
        EndpointSpec("ollama", "http://h:11434", 1, "gpt-oss-safeguard:20b", 1),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ollama=http://a:1, olama=http://b:1", "entry 2 ('olama=http://b:1'): start with ollama=URL"),
        ("ollama=http://a:1;slots=two", "entry 1 ('ollama=http://a:1;slots=two'): slots must be"),
        ("ollama=http://a:1;slots=0", "slots must be a whole number from 1 to 64"),
        ("ollama=10.0.0.5:11434", "'10.0.0.5:11434' is not an http:// or https:// URL"),
        ("ollama=http://a:1;slot=2", "unknown option 'slot=2'"),
        ("ollama=http://a:1;tier=70b", "tier must be 20b or 120b"),
        ("ollama=http://a:1;slots=1;slots=2", "slots is given twice"),
        ("ollama=http://a:1, ollama=http://a:1/", "the same URL, model and tier twice"),
    ],
)
def test_a_mistake_names_the_entry(text, says):
    with pytest.raises(EndpointSpecError) as caught:
        parse_endpoints(text)
    assert says in str(caught.value)


def test_settings_refuse_a_bad_entry_at_start(monkeypatch):
    monkeypatch.setenv("MODEL_ENDPOINTS", "ollama=http://a:1;slots=x")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "MODEL_ENDPOINTS entry 1" in str(caught.value)


def test_unset_keeps_the_single_ollama(monkeypatch):
    monkeypatch.setenv("OLLAMA_SLOTS", "3")
    settings = Settings(ollama_host="http://127.0.0.1:9")
    classifier = build_classifier(settings, build_toolkit(settings))
    assert isinstance(classifier.tier1, OllamaTier) and classifier.tier2 is None
    assert settings.tier1_slots == 3 and classifier.pools() == []


def test_pools_per_tier_and_slots_from_the_entries():
    settings = Settings(
        model_endpoints="ollama=http://127.0.0.1:9;slots=2, ollama=http://127.0.0.1:8;slots=3,"
        "openai=http://127.0.0.1:7;tier=120b",
        ollama_slots=1,
    )
    classifier = build_classifier(settings, build_toolkit(settings))
    assert settings.tier1_slots == 5 and settings.has_tier2
    assert isinstance(classifier.tier1, EndpointPool) and classifier.tier1.slots == 5
    assert isinstance(classifier.tier2, EndpointPool) and classifier.tier2.tier == 2
    (big,) = classifier.tier2.endpoints
    assert isinstance(big.client, OpenAICompatTier) and big.client.model == settings.escalation_model


def test_an_endpoint_is_named_without_credentials_in_its_url():
    (spec,) = parse_endpoints("openai=https://donor:s3cret@gpu.example.org:8000/v1;tier=120b")
    assert spec.name == "https://gpu.example.org:8000/v1"
