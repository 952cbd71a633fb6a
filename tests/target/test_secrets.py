"""Credentials never reach evidence: what counts as one, and how it is removed."""

from __future__ import annotations

from perfci.measurement import REDACTED, Direction, Evidence, Measurement, redact
from perfci.target.context import secret_values


def test_credential_headers_give_their_values_and_parts() -> None:
    found = secret_values(
        [
            ("Authorization", "Bearer abc123def456"),
            ("Cookie", "session=s3cr3tvalue; theme=dark"),
            ("X-Api-Key", "k-0123456789"),
            ("Accept", "application/json"),  # not a credential header
            ("X-Token", "short"),  # too short to redact safely
        ]
    )
    assert "abc123def456" in found and "Bearer abc123def456" in found
    assert "s3cr3tvalue" in found and "k-0123456789" in found
    assert "application/json" not in found and "short" not in found
    assert list(found) == sorted(found, key=len, reverse=True)


def test_redact_replaces_every_occurrence_in_evidence_and_text_values() -> None:
    plan = Evidence("plan", "Filter: ((token)::text = 'abc123def456'::text)")
    measured = Measurement("indexes/x/full_scans", 1, "count", Direction.LOWER, evidence=(plan,))
    cleaned = redact(measured, ("abc123def456",))
    assert cleaned.evidence[0].text == f"Filter: ((token)::text = '{REDACTED}'::text)"
    fact = Measurement("indexes/schema/x", "token=abc123def456", "", Direction.EQUAL)
    assert redact(fact, ("abc123def456",)).value == f"token={REDACTED}"
    assert redact(measured, ()) is measured
