"""The GUM reader and scorer: texts rebuilt from tokens, gold spans that are names, and a scorer that can fail."""

from __future__ import annotations

import pytest

from pipeline.models import Entity, EntityType, Mention, Quote
from tests.eval.gum import GUM, _mentions, evaluate_gum, evaluate_model_alone, load_gum, score_gum

pytestmark = pytest.mark.skipif(not GUM.exists(), reason=f"outside corpus absent: {GUM}")


def test_tokens_sit_at_their_offsets() -> None:
    docs = load_gum()
    assert len(docs) == 43
    for doc in docs:
        assert all(doc.text[t.start : t.end] == t.word for t in doc.tokens)
        assert "\n\n" in doc.text and "  " not in doc.text


def test_gold_spans_are_names() -> None:
    news = [d for d in load_gum() if d.kind == "news"]
    spans = [d.text[s:e] for d in news for _, s, e in d.mentions]
    assert len(spans) > 800
    assert sum(span[0].isupper() or span[0].isdigit() for span in spans) > 0.99 * len(spans)
    assert not any(span.startswith("the ") or span.endswith("'s") for span in spans)
    assert sum(q[2] is not None for d in news for q in d.quotes) >= 20


def test_mentions_closed_together_are_all_read() -> None:
    # "Lyon, France": the country's one-token mention closes right before the city's
    conll = "1\tLyon\t(place-9-Lyon\n2\t,\t_\n3\tFrance\t(place-10-France)place-9-Lyon)\n4\tsaid\t_"
    assert sorted(_mentions(conll, 4)) == [("place", 9, "Lyon", 0, 2), ("place", 10, "France", 2, 2)]


def test_a_place_named_with_its_region_is_the_place() -> None:
    docs = [d for d in load_gum() if d.kind == "news"]
    nested = [(d, s, e) for d in docs for k, s, e in d.mentions if k is EntityType.PLACE and d.text[e : e + 2] == ", "]
    assert len(nested) > 10  # "Irving, Texas": Irving is a gold place of its own, and so is Texas


def _gold(name: str, kind: EntityType) -> set[str]:
    doc = next(d for d in load_gum() if d.name == name)
    return {doc.text[s:e] for k, s, e in doc.mentions if k is kind}


def test_a_person_is_the_whole_name_even_one_unlike_the_identity() -> None:
    election = _gold("GUM_news_election", EntityType.PERSON)
    assert {"Hui Chi-fung", "Wong Pik-wan", "Kwong Chun-yu", "Raymond Wong"} <= election  # Ted_Hui, Roy_Kwong ...
    assert not {"Hui", "Wong", "Kwong"} & election
    expo = _gold("GUM_news_expo", EntityType.PERSON)
    assert {"Bruce Wayne", "Doctor Who"} <= expo and "Doctor" not in expo  # identities Batman, The_Doctor
    assert "Dostoyevsky" in _gold("GUM_interview_mcguire", EntityType.PERSON)  # Fyodor_Dostoevsky
    assert "J-Lo" in _gold("GUM_interview_onion", EntityType.PERSON)
    # a title or a description is no name: "the Secretary of State", "Panama coach", "Man of the Match"
    assert "Secretary of State" not in _gold("GUM_news_asylum", EntityType.PERSON)
    assert not {"Panama", "Man", "Match"} & _gold("GUM_news_soccer", EntityType.PERSON)
    assert not {"Poet", "Mets Poet"} & _gold("GUM_interview_messina", EntityType.PERSON)


def test_a_comma_splits_a_place_from_its_region_only_where_the_text_does() -> None:
    election = _gold("GUM_news_election", EntityType.ORGANISATION)
    assert "Architectural, Surveying, Planning and Landscape" in election and "Architectural" not in election
    assert {"Irving", "Mountain View"} <= _gold("GUM_news_clock", EntityType.PLACE)  # "Irving, Texas"


def test_a_span_is_gold_once_as_its_innermost_mention() -> None:
    for doc in load_gum():
        spans = [(s, e) for _, s, e in doc.mentions]
        assert len(spans) == len(set(spans)), doc.name
    # "the organization founded by science fiction writer L. Ron Hubbard" is the Sea Org; the name is the person's
    assert "L. Ron Hubbard" in _gold("GUM_news_defector", EntityType.PERSON)
    assert "L. Ron Hubbard" not in _gold("GUM_news_defector", EntityType.ORGANISATION)
    # "the Mary & Leigh Block Museum of Art at Northwestern University in Evanston, Illinois": Illinois is a place
    assert not {"Illinois", "New York", "Greensboro"} & _gold("GUM_news_warhol", EntityType.ORGANISATION)


def test_a_name_goes_on_over_s_only_where_its_identity_does() -> None:
    assert {"Mecca", "Grand Mosque"} <= _gold("GUM_news_crane", EntityType.PLACE)  # not "Mecca's Grand Mosque"
    assert "Italy" in _gold("GUM_news_warhol", EntityType.PLACE)
    assert "la Repubblica" in _gold("GUM_news_warhol", EntityType.ORGANISATION)
    assert "Korean People's Army" in _gold("GUM_news_korea", EntityType.ORGANISATION)  # Korean_People's_Army


def test_scores_exact_answers_perfectly_and_shifted_ones_not() -> None:
    doc = next(d for d in load_gum() if d.kind == "news" and any(q[2] for q in d.quotes))
    exact = [
        Entity(name="x", type=k, count=1, mentions=[Mention(text=doc.text[s:e], start=s, end=e)])
        for k, s, e in doc.mentions
    ]
    quotes = [
        Quote(text=doc.text[s:e], speaker=sorted(sp)[0], direct=True, start=s, end=e) for s, e, sp in doc.quotes if sp
    ]
    article = doc.article()
    perfect = score_gum([doc], [article.model_copy(update={"entities": exact, "quotes": quotes})])
    assert perfect.entities["entities"].f1 == 1.0
    assert perfect.speaker_accuracy == 1.0
    shifted = [
        e.model_copy(update={"mentions": [m.model_copy(update={"end": m.end + 1}) for m in e.mentions]}) for e in exact
    ]
    wrong = [q.model_copy(update={"speaker": "Nobody"}) for q in quotes]
    poor = score_gum([doc], [article.model_copy(update={"entities": shifted, "quotes": wrong})])
    assert poor.entities["entities"].true_positives == 0
    assert poor.speaker_accuracy == 0.0
    assert poor.entities[EntityType.PERSON.value].false_positives > 0 or not any(
        k is EntityType.PERSON for k, _, _ in doc.mentions
    )


def test_the_stage_beats_the_model_alone_and_attributes_quotes() -> None:
    stage, alone = evaluate_gum(), evaluate_model_alone()
    assert stage is not None and alone is not None
    assert stage.entities["entities"].f1 > alone.entities["entities"].f1
    assert stage.entities[EntityType.PERSON.value].f1 > alone.entities[EntityType.PERSON.value].f1
    assert stage.speaker_accuracy >= 0.85
