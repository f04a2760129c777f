"""Language identification: every language lingua knows, a declared language kept unless the text clearly
says otherwise, and a confidence that says how sure it is."""

from __future__ import annotations

import pytest

from pipeline.enrich.language import detect_language

ITALIAN = (
    "Il consiglio comunale ha approvato ieri sera il nuovo piano per il traffico, dopo una lunga discussione "
    "con i commercianti del centro storico e con i rappresentanti dei quartieri."
)
DUTCH = (
    "De gemeenteraad heeft gisteravond het nieuwe verkeersplan goedgekeurd, na een lange discussie met de "
    "winkeliers uit het centrum en met bewoners van de omliggende wijken."
)
SPANISH = (
    "El ayuntamiento aprobó anoche el nuevo plan de tráfico, después de una larga discusión con los "
    "comerciantes del centro histórico y con los representantes de los barrios."
)


@pytest.mark.parametrize(("text", "code"), [(ITALIAN, "it"), (DUTCH, "nl"), (SPANISH, "es")])
def test_languages_outside_the_configured_set_are_recognised(text: str, code: str) -> None:
    language, confidence = detect_language(text)
    assert language == code and confidence > 0.9


def test_a_declared_language_stays_unless_the_text_clearly_says_otherwise() -> None:
    assert detect_language("Ciao Roma", "it")[0] == "it"  # too short to overrule the source
    assert detect_language(ITALIAN, "it")[0] == "it"
    assert detect_language(DUTCH, "de")[0] == "nl"  # a whole paragraph of Dutch is Dutch, whatever is declared


def test_confidence_is_not_certainty_for_a_guess() -> None:
    language, confidence = detect_language("Roma Milano Torino")
    assert language is not None and confidence < 0.9
    kept, kept_confidence = detect_language("Roma Milano Torino", "it")
    assert kept == "it" and kept_confidence < 0.9


def test_no_letters_no_language() -> None:
    assert detect_language("12 345 — 67") == (None, 0.0)
    assert detect_language("12 345 — 67", "fr") == ("fr", 0.0)


def test_text_without_spaces_can_overrule_a_wrong_declaration() -> None:
    japanese = "東京都は新しい橋の建設を発表した。工事は来年の春に始まり、三年後に完成する予定だという。" * 3
    assert detect_language(japanese, "zh")[0] == "ja"
    assert detect_language("東京の橋", "zh")[0] == "zh"  # a few characters overrule nothing
