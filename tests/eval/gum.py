"""Score entities and quote speakers on GUM's Wikinews documents (outside English news; see README.md).

Gold entities: GUM's mentions of type person, place or organization that carry an identity (a Wikipedia title)
and contain a proper noun. GUM marks whole noun phrases ("science fiction writer L. Ron Hubbard", "the Sea Org
group"), news NER marks names, so each gold span is the mention's last run of proper nouns (with "of", "'s" or a
capitalised adjective inside: "Bank of America", "Korean People's Army"), for a person its name without a title,
found by the words of its identity ("US President Barack Obama" -> "Barack Obama", "Hui Chi-fung" for Ted_Hui) or,
in a mention that is a name alone, without them ("Bruce Wayne" for Batman), for a place written with its region
the words of its identity ("Irving, Texas" -> "Irving"; Texas is a mention of its own); GUM types a country by its
role (an organization when it acts), news NER calls it a place, so a mention whose identity GUM marks as a place
anywhere, or names a country, is a place. A name is gold once, as the innermost mention that gives it ("L. Ron
Hubbard" in "the organization founded by ... L. Ron Hubbard" is the person, not the Sea Org). The match is then
strict: same characters, same type. A prediction on a named mention without an identity (a person with no
Wikipedia article) is left out: GUM does not say it is wrong. So are a person mention without the person's name
("Tunisia's coach", "the President") and, as news NER marks the outermost name only, a name inside another
("Southern Indiana" in "University of Southern Indiana").

Gold speakers: each quotation of four words or more (`<q>` or `<quote>`) whose sentence, or the sentence
before when that one ends in "," or ":", has a speech verb outside the quotation with a subject (the `nsubj`
nearest the verb, or the name after "according to") inside a person mention whose coreference chain has an
identity. A predicted quote found = overlapping the quotation; attributed = its speaker names that identity
(the Wikipedia title without its parenthesis, or a name the chain's mentions use, as strict as the gold spans or
with their title, or a tail of those: "Cres Eastman", "Professor Eastman").
"""

from __future__ import annotations

import html
import re
import tarfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from anyascii import anyascii

from pipeline.enrich import Enricher
from pipeline.models import Article, EntityType
from pipeline.settings import Settings
from tests.eval.scoring import Score
from tests.support.articles import plain_article
from tests.support.paths import CORPORA

__all__ = [
    "GUM",
    "GumDocument",
    "GumScores",
    "evaluate_gum",
    "evaluate_model_alone",
    "load_gum",
    "print_gum",
    "score_gum",
]

GUM = CORPORA / "gum-wikinews.tar.gz"
_TYPES = {"person": EntityType.PERSON, "place": EntityType.PLACE, "organization": EntityType.ORGANISATION}
_BLOCKS = {"p", "head", "caption", "item", "sp", "l", "figure"}
_NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "%", "'s", "'", "n't", "'re", "'ve", "'ll", "'d", "'m"}
_NO_SPACE_AFTER = {"(", "[", "$", "US$"}
# Verbs of saying (lemmas): a general English list, not drawn from the corpus.
_SPEECH = {
    "say", "tell", "state", "add", "write", "explain", "claim", "assert", "announce", "note", "ask", "reply", "argue",
    "insist", "warn", "declare", "comment", "remark", "report", "describe", "call", "continue", "conclude", "admit",
    "acknowledge", "suggest", "confirm", "deny", "respond", "answer", "stress", "urge",
}  # fmt: skip
_MIN_QUOTE_WORDS = 4
_CONNECTORS = {"of", "and", "&", "for", "de", "-", "the"}  # inside one name: "Bank of America"


@dataclass(frozen=True, slots=True)
class _Token:
    word: str
    xpos: str
    lemma: str
    upos: str
    deprel: str
    start: int
    end: int
    sentence: int


@dataclass
class GumDocument:
    """One GUM document as an article's text, with its gold mentions and labelled quotations."""

    name: str
    title: str
    text: str
    mentions: set[tuple[EntityType, int, int]]  # (type, start, end) in `text`
    unscored: set[tuple[int, int]]  # named mentions without an identity: a prediction there is neither right nor wrong
    quotes: list[tuple[int, int, frozenset[str] | None]]  # quotation span and its speaker's names (None: unlabelled)
    kind: str = "news"
    tokens: list[_Token] = field(default_factory=list, repr=False)

    def article(self) -> Article:
        return plain_article(self.name, self.title, self.text, datetime(2015, 1, 1, tzinfo=UTC))


def load_gum(path: Path = GUM) -> list[GumDocument]:
    """Every document of the archive (news and interviews), in name order."""
    return list(_read(path))


@cache
def _read(path: Path) -> tuple[GumDocument, ...]:
    with tarfile.open(path) as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        sources = []
        for name in sorted(members):
            match = re.search(r"xml/(GUM_\w+)\.xml$", name)
            if match:
                conll = next(n for n in members if n.endswith(f"conll/{match.group(1)}.conll"))
                sources.append((match.group(1), _text(archive, members[name]), _text(archive, members[conll])))
    places = set(
        re.findall(r"\(place-\d+-([^()|\s]+)\)?(?=\||$|\(|\s|[a-z])", "\n".join(c for _, _, c in sources), re.M)
    )
    # Capitalised common nouns make an epithet, not a name ("The Poet", "Man of the Match"): the corpus's own nouns.
    nouns = {n.casefold() for n in re.findall(r"^\S+\tNNS?\t(\S+)\t", "\n".join(x for _, x, _ in sources), re.M)}
    return tuple(_document(stem, xml, conll, places | _countries(), nouns) for stem, xml, conll in sources)


def _countries() -> set[str]:
    """Country names as Wikipedia titles ("North_Korea"), from Babel's English territory names and pycountry."""
    import pycountry
    from babel import Locale

    # Babel's territories include groupings ("United Nations", "European Union", "World"): countries only.
    territories = Locale.parse("en").territories
    names = {name for code, name in territories.items() if pycountry.countries.get(alpha_2=code)}
    names |= {getattr(c, a) for c in pycountry.countries for a in ("name", "common_name") if hasattr(c, a)}
    return {n.replace(" ", "_") for n in names}


def _text(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    handle = archive.extractfile(member)
    assert handle is not None
    return handle.read().decode("utf-8")


def _document(stem: str, xml: str, conll: str, places: set[str], nouns: set[str]) -> GumDocument:
    tokens, quotations, title, breaks, glued = _tokens(xml)
    text = _join(tokens, breaks, glued)
    mentions = _mentions(conll, len(tokens))
    # A name is gold once, as the innermost mention giving it ("L. Ron Hubbard" in "the organization founded by
    # ... L. Ron Hubbard" is the person, not the Sea Org): its span -> (that mention's length, type; None: unscored).
    owners: dict[tuple[int, int], tuple[int, EntityType | None]] = {}
    unscored: set[tuple[int, int]] = set()
    names: dict[int, set[str]] = {}
    identity: dict[int, str] = {}
    for kind, chain, ident, first, last in mentions:
        if ident:
            identity[chain] = ident
        inside = _inside(mentions, chain, first, last)
        if kind == "person":
            span = _person_span(tokens, first, last, ident, {i for a, b in inside for i in range(a, b + 1)}, nouns)
        else:
            span = _place_span(tokens, first, last, ident, {a for a, _ in inside})
        described = kind == "person" and ident and span is None  # "Tunisia's coach", "the President": no name
        span = span or _name_span(tokens, first, last, ident)
        typed = None
        if span and kind in _TYPES and ident and not described:
            # GUM types a country by its role (an organization when it acts); news NER calls it a place anywhere.
            typed = EntityType.PLACE if ident in places else _TYPES[kind]
            names.setdefault(chain, set()).add(text[tokens[span[0]].start : tokens[span[1]].end])
        if span:
            where, held = (tokens[span[0]].start, tokens[span[1]].end), (last - first, typed)
            if typed is None:
                unscored.add(where)
            if where not in owners or (held[0], typed is None) < (owners[where][0], owners[where][1] is None):
                owners[where] = held  # the innermost mention; of two as long, one with a type
        run = _name_span(tokens, first, last, ident) if kind == "person" else None
        if run:  # a speaker may be named as the text names them: "Cres Eastman" for Creswell Eastman
            names.setdefault(chain, set()).update(text[tokens[i].start : tokens[run[1]].end] for i in range(*run))
    gold = {(typed, start, end) for (start, end), (_, typed) in owners.items() if typed}
    # News NER marks the outermost name only ("University of Southern Indiana", not also "Southern Indiana"):
    # a name inside another is neither right nor wrong.
    inner = {g for g in gold if any(o[1] <= g[1] and g[2] <= o[2] and o[1:] != g[1:] for o in gold)}
    gold -= inner
    unscored |= {(start, end) for _, start, end in inner}
    person_at: dict[int, int] = {}  # token -> chain of the innermost person mention covering it
    for kind, chain, _, first, last in sorted(mentions, key=lambda m: m[4] - m[3], reverse=True):
        if kind == "person":
            person_at.update(dict.fromkeys(range(first, last + 1), chain))
    quotes = []
    for first, last in quotations:
        if sum(t.upos != "PUNCT" for t in tokens[first : last + 1]) < _MIN_QUOTE_WORDS:
            continue
        chain = _speaker_chain(tokens, first, last, person_at, quotations)
        speaker = None
        if chain is not None and chain in identity:
            speaker = frozenset({_title(identity[chain]), *names.get(chain, set())})
        quotes.append((tokens[first].start, tokens[last].end, speaker))
    kind = "interview" if stem.startswith("GUM_interview") else "news"
    return GumDocument(stem, title, text, gold, unscored, quotes, kind, tokens)


def _tokens(xml: str) -> tuple[list[_Token], list[tuple[int, int]], str, set[int], set[int]]:
    """Tokens (offsets set by `_join`), quotation token ranges, the first heading, block starts, glued tokens."""
    tokens: list[_Token] = []
    quotations: list[tuple[int, int]] = []
    open_quotes: list[int] = []
    title_tokens: list[str] = []
    in_head = seen_head = False
    sentence = 0
    breaks: set[int] = set()
    glued: set[int] = set()  # tokens joined to the one before (inside <w>)
    in_word = False
    word_start = -1
    for line in xml.split("\n"):
        if line.startswith("<"):
            tag = re.match(r"<(/?)(\w+)", line)
            if not tag:
                continue
            closing, name = tag.group(1) == "/", tag.group(2)
            if name in _BLOCKS and not closing:
                breaks.add(len(tokens))
            if name == "head":
                in_head = not closing and not seen_head
                seen_head = seen_head or closing
            elif name == "s" and not closing:
                sentence += 1
            elif name in ("q", "quote"):
                if closing and open_quotes:
                    first = open_quotes.pop()
                    if len(tokens) > first:
                        quotations.append((first, len(tokens) - 1))
                elif not closing:
                    open_quotes.append(len(tokens))
            elif name == "w":
                in_word, word_start = not closing, len(tokens)
            continue
        cols = line.split("\t")
        if len(cols) < 6:
            continue
        if in_word and len(tokens) > word_start:
            glued.add(len(tokens))
        word = html.unescape(cols[0])  # the XML escapes "&" as "&amp;"
        tokens.append(_Token(word, cols[1], cols[2], cols[4], cols[5], 0, 0, sentence))
        if in_head:
            title_tokens.append(word)
    return tokens, quotations, " ".join(title_tokens), breaks, glued


def _join(tokens: list[_Token], breaks: set[int], glued: set[int]) -> str:
    """Detokenise: paragraphs apart by a blank line, no space before closing punctuation or after opening."""
    parts: list[str] = []
    length = 0
    no_space = True
    for i, token in enumerate(tokens):
        if i in breaks and parts:
            sep = "\n\n"
        elif no_space or i in glued or token.word in _NO_SPACE_BEFORE or token.xpos == "''" or token.xpos == "POS":
            sep = ""
        else:
            sep = " "
        parts.append(sep)
        length += len(sep)
        tokens[i] = replace(token, start=length, end=length + len(token.word))
        parts.append(token.word)
        length += len(token.word)
        no_space = token.word in _NO_SPACE_AFTER or token.xpos == "``"
    return "".join(parts)


def _mentions(conll: str, count: int) -> list[tuple[str, int, str, int, int]]:
    """(type, chain, identity, first token, last token) of every mention in the CoNLL coreference column."""
    opened: dict[int, list[tuple[str, str, int]]] = {}
    mentions: list[tuple[str, int, str, int, int]] = []
    index = 0
    for line in conll.split("\n"):
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        for part in re.finditer(r"\(?([a-z]+)-(\d+)(?:-([^()|]+))?\)?(?=\||$|\(|[a-z])", cols[-1]):
            raw = part.group(0)
            kind, chain, ident = part.group(1), int(part.group(2)), part.group(3) or ""
            if raw.startswith("("):
                opened.setdefault(chain, []).append((kind, ident, index))
            if raw.endswith(")") and opened.get(chain):
                kind, ident, first = opened[chain].pop()
                mentions.append((kind, chain, ident, first, index))
        index += 1
    assert index == count, f"{index} CoNLL tokens against {count} in the XML"
    return mentions


def _name_span(tokens: list[_Token], first: int, last: int, identity: str = "") -> tuple[int, int] | None:
    """The mention's name: its last run of proper nouns (joined by "of", "-" ..., by "'s" where the identity's name
    has one: "Korean People's Army", not "Italy's la Repubblica" or "Mecca's Grand Mosque"); None without one.
    Without an identity (a name left unscored) the run goes on over "'s": nothing says where the name starts."""
    end = next((i for i in range(last, first - 1, -1) if _proper(tokens[i])), None)
    if end is None:
        return None
    possessive = not identity or re.search(r"['\u2019]s\b", _title(identity)) is not None
    start = end
    while start > first:
        previous = tokens[start - 1]
        if _proper(previous) or (previous.word[:1].isupper() and previous.upos == "ADJ"):
            start -= 1
        elif (previous.xpos == "POS" and possessive) or previous.word in _CONNECTORS:
            if start - 2 >= first and _proper(tokens[start - 2]):
                start -= 2
            else:
                break
        else:
            break
    return start, end


def _inside(mentions: list[tuple[str, int, str, int, int]], chain: int, first: int, last: int) -> list[tuple[int, int]]:
    """The mentions of other chains inside this one, as token ranges ("US" in "US President Barack Obama")."""
    return [
        (a, b) for _, other, _, a, b in mentions if other != chain and first <= a and b <= last and b - a < last - first
    ]


def _person_span(
    tokens: list[_Token], first: int, last: int, identity: str, nested: set[int], nouns: set[str]
) -> tuple[int, int] | None:
    """A person's name without a title ("US President Barack Obama" -> "Barack Obama"): the tokens of the mention
    that are words of its identity, first to last, with the rest of the name's run of proper nouns after them
    ("Hui Chi-fung" for Ted Hui, "Kwong Chun-yu") and a given name before them ("Raymond Wong" for Wong Yuk-man,
    "Chris Gregoire" for Christine Gregoire). Where no word is the identity's ("Bruce Wayne" for Batman,
    "Dostoyevsky", "J-Lo"), a mention that is a name alone, after a title at most. None: no name of its own
    ("the Secretary of State", "Panama coach", "Obama's national security advisor": Obama is a nested mention)."""
    own = {i for i in range(first, last + 1) if _proper(tokens[i]) and i not in nested}
    words = _words(_title(identity)) if identity else set()
    inside = sorted(i for i in own if _words(tokens[i].word) <= words)
    if not inside:
        return _name_alone(tokens, first, last, own, nouns) if identity else None
    start, end = inside[0], inside[-1]
    head = tokens[start - 1] if start - 1 in own else None
    if head and tokens[start].deprel == "flat" and head.deprel not in ("flat", "nmod:desc") and not _titled(head):
        start -= 1
    # A title is "nmod:desc" ("Senator", "Prime Minister"); a given name before the surname is a compound.
    while start - 1 in own and tokens[start - 1].deprel == "compound" and not _titled(tokens[start - 1]):
        start -= 1
    while True:
        if end + 1 in own and not _titled(tokens[end + 1]):
            end += 1
        elif end + 2 in own and tokens[end + 1].word in _HYPHEN:  # "Kwok - kin"
            end += 2
        else:
            return start, end


def _name_alone(tokens: list[_Token], first: int, last: int, own: set[int], nouns: set[str]) -> tuple[int, int] | None:
    """The name of a mention that is nothing but a name after a title at most ("Bruce Wayne's", "J-Lo"): without
    the identity's words, only such a mention says whose name it is ("Panama coach", "a Booker Prize-winner" do
    not). Capitalised common nouns of the corpus are an epithet, not a name ("The Poet", "the Mets Poet")."""
    named = [i for i in sorted(own) if not _titled(tokens[i]) and tokens[i].word.casefold() not in nouns]
    if not named:
        return None
    start, end = named[0], named[-1]
    one_run = all(i in named or tokens[i].word in _HYPHEN for i in range(start, end + 1))
    before = all(t.upos in ("DET", "PUNCT") or _titled(t) for t in tokens[first:start])
    after = all(t.upos == "PUNCT" or t.xpos == "POS" for t in tokens[end + 1 : last + 1])
    return (start, end) if one_run and before and after else None


def _titled(token: _Token) -> bool:
    """A word of a title, not of a name: "President", "Home Secretary"."""
    return token.deprel == "nmod:desc" or token.word.casefold().rstrip(".") in _TITLES


# Words of office and address, general English (not drawn from the corpus).
_TITLES = {
    "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "president", "vice",
    "prime", "minister", "premier", "chancellor", "secretary", "senator", "governor", "mayor", "congressman",
    "congresswoman", "representative", "mp", "mep", "ambassador", "consul", "attorney", "general", "judge",
    "justice", "commissioner", "commander", "admiral", "captain", "colonel", "major", "lieutenant", "sergeant",
    "chief", "director", "chairman", "chairwoman", "chair", "administrator", "king", "queen", "prince", "princess",
    "emperor", "pope", "bishop", "archbishop", "cardinal", "reverend", "rabbi", "imam", "sheikh", "coach",
    "deputy", "speaker", "leader", "home", "foreign", "shadow", "state", "high",
}  # fmt: skip


def _words(name: str) -> set[str]:
    return set(re.findall(r"\w+", anyascii(name).casefold()))


_HYPHEN = {"-", "\u2010"}


def _place_span(tokens: list[_Token], first: int, last: int, identity: str, nested: set[int]) -> tuple[int, int] | None:
    """In a mention with a comma, the name its identity writes, where the last run of proper nouns would be a
    region ("the California Science Center in Los Angeles, California"); a place named with its region ("Irving,
    Texas", identity Irving,_Texas) -> the place's own name ("Irving"), only where the text reads so: the name, a
    comma, then the region as a mention of its own (`nested`: first tokens of those). Else the identity's comma is
    the name's ("the Architectural, Surveying, Planning and Landscape constituency")."""
    if all(t.word != "," for t in tokens[first : last + 1]):
        return None
    title = _title(identity)
    head, _, region = title.partition(",")
    if region:
        found = _find(tokens, first, last, [*head.split(), ","])
        if found and found[1] + 1 in nested and [tokens[found[1] + 1].word.casefold()] == region.casefold().split()[:1]:
            return found[0], found[1] - 1
    return _find(tokens, first, last, re.findall(r"[^\s,]+|,", title))


def _find(tokens: list[_Token], first: int, last: int, words: list[str]) -> tuple[int, int] | None:
    """The first and last token of `words` written in tokens `first` to `last`, case aside."""
    folded = [w.casefold() for w in words]
    for i in range(first, last + 2 - len(words)) if words else ():
        if [t.word.casefold() for t in tokens[i : i + len(words)]] == folded:
            return i, i + len(words) - 1
    return None


def _proper(token: _Token) -> bool:
    return token.upos == "PROPN" or token.xpos in ("NP", "NPS")


def _speaker_chain(
    tokens: list[_Token], first: int, last: int, person_at: dict[int, int], quotations: list[tuple[int, int]]
) -> int | None:
    inside = {i for a, b in quotations for i in range(a, b + 1)}
    sentences = {tokens[first].sentence, tokens[last].sentence}
    before = first - 1
    while before >= 0 and tokens[before].word in ("``", '"', "'", "“"):
        before -= 1
    if before >= 0 and tokens[before].word in (",", ":"):
        sentences.add(tokens[before].sentence)
    region = [i for i, t in enumerate(tokens) if t.sentence in sentences and i not in inside]
    verbs = [i for i in region if tokens[i].upos == "VERB" and tokens[i].lemma in _SPEECH]
    according = [i for i in region if tokens[i].lemma == "according" and i + 1 < len(tokens)]
    for verb in verbs:
        subjects = [i for i in region if tokens[i].deprel.startswith("nsubj") and not tokens[i].deprel.endswith("pass")]
        for subject in sorted(subjects, key=lambda i: abs(i - verb)):
            if subject in person_at:
                return person_at[subject]
            break
    for i in according:
        name = next((j for j in range(i + 2, min(i + 6, len(tokens))) if j in person_at), None)
        if name is not None:
            return person_at[name]
    return None


def _title(identity: str) -> str:
    return re.sub(r"\s*\(.*\)$", "", unquote(identity).replace("_", " "))


@dataclass
class GumScores:
    """Strict mention scores per type and overall, and the quotation counts for speakers."""

    entities: dict[str, Score]
    quotes_labelled: int = 0
    quotes_found: int = 0
    quotes_attributed: int = 0
    quotes_reported: int = 0  # direct quotes the pipeline reported with a speaker
    quotes_reported_right: int = 0  # ... of which overlap a labelled quotation and name its speaker

    @property
    def speaker_accuracy(self) -> float:
        """Labelled quotations found and attributed to the right speaker."""
        return self.quotes_attributed / self.quotes_labelled if self.quotes_labelled else 1.0


def score_gum(docs: list[GumDocument], articles: list[Article]) -> GumScores:
    """Score enriched `articles` (one per document, same text) against the documents' gold."""
    scores = GumScores({kind.value: Score() for kind in _TYPES.values()} | {"entities": Score()})
    for doc, article in zip(docs, articles, strict=True):
        gold_spans = {(start, end) for _, start, end in doc.mentions}
        # A prediction on a named mention GUM gives no identity is neither right nor wrong, unless the span is
        # also gold: then a wrong type is an error.
        found = {
            (e.type, m.start, m.end)
            for e in article.entities
            for m in e.mentions
            if (m.start, m.end) not in doc.unscored or (m.start, m.end) in gold_spans
        }
        for kind in _TYPES.values():
            expected = {g for g in doc.mentions if g[0] is kind}
            scores.entities[kind.value].add(expected, {f for f in found if f[0] is kind})
        scores.entities["entities"].add(doc.mentions, found)
        _score_speakers(doc, article, scores)
    return scores


def _score_speakers(doc: GumDocument, article: Article, scores: GumScores) -> None:
    direct = [q for q in article.quotes if q.direct]
    for start, end, speaker in doc.quotes:
        if speaker is None:
            continue
        scores.quotes_labelled += 1
        hits = [q for q in direct if q.start < end and start < q.end]
        scores.quotes_found += bool(hits)
        scores.quotes_attributed += any(q.speaker in speaker for q in hits)
    for quote in direct:
        if quote.speaker is None:
            continue
        labelled = [s for a, b, s in doc.quotes if s is not None and quote.start < b and a < quote.end]
        if labelled:  # quotes the corpus has not labelled cannot be judged
            scores.quotes_reported += 1
            scores.quotes_reported_right += quote.speaker in labelled[0]


def evaluate_gum(settings: Settings | None = None, kind: str = "news") -> GumScores | None:
    """Enrich GUM's documents of `kind` and score them; None when the corpus is absent."""
    if not GUM.exists():
        return None
    docs = [d for d in load_gum() if d.kind == kind]
    engine = Enricher.from_settings(settings or Settings())
    return score_gum(docs, engine.enrich([d.article() for d in docs]))


def evaluate_model_alone(settings: Settings | None = None, kind: str = "news") -> GumScores | None:
    """The baseline: the spaCy model alone (NER only, whole texts, a leading "the" and a trailing "'s" dropped)."""
    if not GUM.exists():
        return None
    from pipeline.enrich.enricher import load_spacy
    from pipeline.models import Entity, Mention

    docs = [d for d in load_gum() if d.kind == kind]
    exclude = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "tok2vec"]
    nlp = load_spacy((settings or Settings()).spacy_model, exclude)
    articles = []
    for doc in docs:
        entities = []
        for span in nlp(doc.text).ents:
            kind_of = _MODEL_TYPES.get(span.label_)
            start = span.start_char + 4 if span.text.startswith(("the ", "The ")) else span.start_char
            end = span.end_char - 2 if span.text.endswith(("'s", "’s")) else span.end_char  # noqa: RUF001
            if kind_of is not None and end > start:
                mention = Mention(text=doc.text[start:end], start=start, end=end)
                entities.append(Entity(name=mention.text, type=kind_of, count=1, mentions=[mention]))
        articles.append(doc.article().model_copy(update={"entities": entities}))
    return score_gum(docs, articles)


_MODEL_TYPES = {
    "PERSON": EntityType.PERSON,
    "ORG": EntityType.ORGANISATION,
    "GPE": EntityType.PLACE,
    "LOC": EntityType.PLACE,
}


def print_gum() -> None:
    """Print the GUM scores (news, then interviews), or why there are none."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for kind in ("news", "interview"):
        scores = evaluate_gum(kind=kind)
        if scores is None:
            console.print(f"GUM: {GUM} is absent, outside-news scores skipped")
            return
        table = Table(title=f"GUM Wikinews {kind} (en), strict mention level")
        for column in ("type", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "type" else "right")
        for name, s in scores.entities.items():
            support = s.true_positives + s.false_negatives
            table.add_row(name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(support))
        console.print(table)
        right = scores.quotes_reported_right / scores.quotes_reported if scores.quotes_reported else 1.0
        console.print(
            f"quotes with a named speaker: {scores.quotes_labelled}, found {scores.quotes_found}, found and "
            f"attributed {scores.speaker_accuracy:.3f}; speakers reported on them right {right:.3f}"
        )
        alone = evaluate_model_alone(kind=kind)
        if alone is not None:
            row = " ".join(f"{name} {s.f1:.3f}" for name, s in alone.entities.items())
            console.print(f"baseline, the spaCy model alone on whole texts, F1: {row}")
