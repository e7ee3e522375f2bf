"""Finding secrets in what a user types: each kind found, ordinary text left alone."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from confidante.errors import ConfigurationError, InvalidInputError, SecretRefusedError
from confidante.memory.secrets import (
    POLICIES,
    check_policy,
    find_secrets,
    redact,
    refusal_reply,
    removed_kinds,
    screen,
    screen_json,
    withheld_note,
)
from confidante.settings import Settings

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
FOUND = [
    # card numbers: issuer prefix, length and Luhn check
    ("My card is 4111 1111 1111 1111, it expires 12/27.", "card_number", "4111 1111 1111 1111"),
    ("pay with 4111-1111-1111-1111 please", "card_number", "4111-1111-1111-1111"),
    ("the Amex is 378282246310005", "card_number", "378282246310005"),
    ("mastercard 5555555555554444.", "card_number", "5555555555554444"),
    ("card no. 2223 0031 2200 3222", "card_number", "2223 0031 2200 3222"),
    # IBANs: country format and mod 97
    ("My IBAN is GB82 WEST 1234 5698 7654 32 thanks", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("iban: DE89370400440532013000.", "iban", "DE89370400440532013000"),
    ("send it to fr14 2004 1010 0505 0001 3m02 606", "iban", "fr14 2004 1010 0505 0001 3m02 606"),
    ("BE71 0961 2345 6769 with love", "iban", "BE71 0961 2345 6769"),
    ("ab12 NL91 ABNA 0417 1643 00 ok", "iban", "NL91 ABNA 0417 1643 00"),
    # passwords said as such
    ("my password is hunter2!", "password", "hunter2"),
    ("The wifi password is Tr0ub4dor&3 by the way", "password", "Tr0ub4dor&3"),
    ("The wifi password for guests is 'blue horse 42'.", "password", "'blue horse 42'"),
    ("Password: x9!kd", "password", "x9!kd"),
    ("my bank password is now Blue-Sky-7, ok?", "password", "Blue-Sky-7"),
    ("my gmail password's correcthorse", "password", "correcthorse"),
    ("our door PIN is 4821", "password", "4821"),
    # API keys and tokens
    (
        "use sk-proj-abcdEFGH1234ijklMNOP5678qrst now",
        "api_key",
        "sk-proj-abcdEFGH1234ijklMNOP5678qrst",
    ),
    ("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx", "api_key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"),
    (
        "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "api_key",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    ("AWS key AKIAIOSFODNN7EXAMPLE.", "api_key", "AKIAIOSFODNN7EXAMPLE"),
    ("slack xoxb-1234567890-abcdefghij ok", "api_key", "xoxb-1234567890-abcdefghij"),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    (
        "google AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
        "api_key",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
    ),
    ("my api key is 3f9a1c2b7d8e4f60", "api_key", "3f9a1c2b7d8e4f60"),
    (f"jwt {JWT}", "token", JWT),
    ("secret: Zk3Qp9Rw2Lx7Mv4Nb8Tc1Hd6Jf5Gs0Ya", "api_key", "Zk3Qp9Rw2Lx7Mv4Nb8Tc1Hd6Jf5Gs0Ya"),
    ("here Zk3Qp9Rw2Lx7Mv4Nb8Tc1Hd6Jf5Gs0YaQ7 ok", "token", "Zk3Qp9Rw2Lx7Mv4Nb8Tc1Hd6Jf5Gs0YaQ7"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "private_key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ),
]


@pytest.mark.parametrize(("text", "kind", "secret"), FOUND, ids=[t for t, *_ in FOUND])
def test_each_kind_is_found_exactly(text: str, kind: str, secret: str) -> None:
    spans = find_secrets(text)
    assert [(s.kind, text[s.start : s.end]) for s in spans] == [(kind, secret)]
    redacted, kinds = redact(text)
    assert kinds == [kind]
    assert secret not in redacted
    assert removed_kinds(redacted) == [kind]


ORDINARY = [
    "Call me at +1 415 555 2671 or +44 20 7946 0958.",
    "My number is 0049 170 1234567, the office is 020 7946 0958.",
    "Order 1234567890123456 shipped on 2024-05-01 at 10:30.",
    "Order #4111111111111112 (an invalid check digit) arrives 01/05/2026.",
    "My reference is 1000000000000008 and the invoice is 2024-0001-0042.",
    "I'm meeting Ana on Friday at 5pm; my flight is LH1234 from gate B22.",
    "Tracking number 1Z999AA10123456784, postcode SW1A 1AA, VAT GB123456789.",
    "My password is too short, I forgot my password and reset it.",
    "The wifi password is on the fridge; my passcode is expired.",
    "Pin the note on the fridge: Bob will read it.",
    "The token is stored in the keychain and the secret is safe.",
    "I have a task-management-system-for-everyone and risk-free savings.",
    "ThisIsAVeryLongIdentifierNameForTesting123 is a long identifier.",
    "uuid 123e4567-e89b-12d3-a456-426614174000, commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "See https://example.com/watch/aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5 tonight.",
    "The user's wifi password is [password removed].",
    "I was born on 12 March 1990 and I weigh 70 kg; pi is 3.14159265358979323846.",
    "Supercalifragilisticexpialidocious and antidisestablishmentarianism are words.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == (text, [])


def test_several_secrets_in_one_text_each_get_their_placeholder() -> None:
    text = "Card 4111 1111 1111 1111, IBAN GB82WEST12345698765432, my password is hunter2."
    redacted, kinds = redact(text)
    assert redacted == (
        "Card [card number removed], IBAN [IBAN removed], my password is [password removed]."
    )
    assert kinds == ["card_number", "iban", "password"]
    assert redact(redacted) == (redacted, [])  # placeholders are never taken for secrets


def test_a_word_that_looks_like_an_iban_start_never_hides_the_iban_after_it() -> None:
    text = "My password is zq12ab3cd4e5x and my IBAN is GB82WEST12345698765432."
    assert redact(text) == (
        "My password is [password removed] and my IBAN is [IBAN removed].",
        ["password", "iban"],
    )


def test_the_policies() -> None:
    text = "my password is hunter2"
    assert screen(text, "allow") == text
    assert screen(text, "redact") == "my password is [password removed]"
    with pytest.raises(SecretRefusedError, match="contains a password") as refused:
        screen(text, "refuse", "message")
    assert refused.value.kinds == ["password"]
    assert "hunter2" not in str(refused.value)
    assert isinstance(refused.value, InvalidInputError)
    assert screen("nothing secret", "refuse") == "nothing secret"


def test_json_values_are_screened_inside() -> None:
    value = {"a": ["card 4111111111111111", 3, None], "b": {"c": "pw: hunter2"}, "d": True}
    assert screen_json(value, "redact") == {
        "a": ["card [card number removed]", 3, None],
        "b": {"c": "pw: hunter2"},  # "pw" is not a password cue: only said ones are
        "d": True,
    }
    with pytest.raises(SecretRefusedError):
        screen_json({"x": ["sk-abcdefghijklmnopqrstuvwx"]}, "refuse")
    assert screen_json(value, "allow") is value


def test_what_the_user_is_told() -> None:
    assert withheld_note([]) == ""
    assert withheld_note(["card_number"]) == (
        "(I did not keep the card number you typed: it was removed before anything was saved.)"
    )
    assert "the IBAN and the password you typed: they were" in withheld_note(["iban", "password"])
    assert "it contained an API key, and secrets are never stored" in refusal_reply(["api_key"])


def test_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    annotation = Settings.model_fields["secret_policy"].annotation
    assert get_args(annotation) == POLICIES
    base = {"config_file": tmp_path / "absent.toml", "_env_file": None}
    assert Settings(**base).secret_policy == "redact"  # type: ignore[arg-type]
    monkeypatch.setenv("CONFIDANTE_SECRET_POLICY", "refuse")
    assert Settings(**base).secret_policy == "refuse"  # type: ignore[arg-type]
    monkeypatch.setenv("CONFIDANTE_SECRET_POLICY", "sometimes")
    with pytest.raises(ValueError, match="secret_policy"):
        Settings(**base)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        check_policy("never")
