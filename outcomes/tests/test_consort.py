"""The CONSORT diagram's layout (pure): every exclusion reason shown whole."""

from outcomes import consort

FLOW = {
    "assessed_for_eligibility": 120,
    "rescreened": 3,
    "excluded": 20,
    "excluded_reasons": [
        ("Child-Pugh class C or B with more than 7 points (liver function too poor)", 12),
        ("ECOG", 8),
    ],
    "enrolled": 100,
    "enrolled_not_randomized": 16,
    "eligible_awaiting_confirmation": 0,
    "randomized": 84,
    "arms": [],
}


def test_a_long_exclusion_reason_is_wrapped_never_cut():
    diagram = consort.layout(FLOW)
    texts = [text for box in diagram["boxes"] for *_, text, _ in box.text_rows()]
    shown = " ".join(t.strip() for t in texts)
    assert "…" not in shown
    assert "Child-Pugh class C or B with more than 7 points (liver function too poor): 12" in (
        shown.replace("  ", " ")
    )
    assert all(len(t) <= 41 for t in texts if t.startswith(("–", "   ")))
