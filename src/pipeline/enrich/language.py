"""Language identification with lingua: every language it knows, in its low-accuracy (low-memory) mode, and the
source's declared language kept unless the text clearly says otherwise."""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import version

from lingua import LanguageDetector, LanguageDetectorBuilder

__all__ = ["LANGUAGE_VERSION", "detect_language"]

# Trigram models of all 75 languages: about 90 MB and a millisecond or two per article, where the full models
# of seven languages take 230 MB and cannot tell Italian from Spanish when Italian is not among them.
# Lingua's time is linear in the sample, and its trigrams are sure of a language long before the first hundred
# words end: on the labelled set, the stories and the extraction benchmark's 181 pages (664 texts with and
# without a declared language), 600, 1,000 and 2,000 characters decide the same but for one Malay page.
MAX_CHARS = 600
LANGUAGE_VERSION = f"lingua-{version('lingua-language-detector')}-all-low-accuracy-without-names-{MAX_CHARS}"

# The text overrides the declared language only when it is this sure, on at least this many words (or
# characters, for scripts written without spaces): a headline alone, a name or a quotation do not.
CLEAR_CONFIDENCE = 0.9
CLEAR_WORDS = 12
CLEAR_CHARS = 120


_NAME = re.compile(r"(?<=[^\s.!?\"“„«(]\s)[^\W\d_a-zß-ÿа-яёіїєґ][\w'’-]*")  # noqa: RUF001


@cache
def _detector() -> LanguageDetector:
    # Preloading builds the models once per process instead of on the first article.
    return (
        LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().with_preloaded_language_models().build()
    )


def detect_language(text: str, declared: str | None = None) -> tuple[str | None, float]:
    """The ISO 639-1 code of the text's language and lingua's confidence in it (0-1, relative to every other
    language), or (None, 0.0); a `declared` language stays unless the text is clearly in another one."""
    sample = text[:MAX_CHARS]
    # Names say nothing of the language around them, and can outweigh it: "FRANKFURT (Reuters) - Shares of
    # Deutsche Lufthansa AG fell ..." reads as German with them. Capitalised words inside a sentence go.
    without_names = _NAME.sub("", sample)
    if len(without_names.split()) >= CLEAR_WORDS:
        sample = without_names
    values = [v for v in _detector().compute_language_confidence_values(sample) if v.value > 0]
    if not values:
        return declared, 0.0
    scores = {v.language.iso_code_639_1.name.lower(): round(v.value, 4) for v in values}
    best = next(iter(scores))
    if declared and best != declared:
        long_enough = len(sample.split()) >= CLEAR_WORDS or len(sample) >= CLEAR_CHARS
        clear = scores[best] >= CLEAR_CONFIDENCE and long_enough
        if not clear:
            return declared, scores.get(declared, 0.0)
    return best, scores[best]
