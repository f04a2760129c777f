"""Language identification with lingua, restricted to the configured languages."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

__all__ = ["LANGUAGE_VERSION", "detect_language"]

LANGUAGE_VERSION = f"lingua-{version('lingua-language-detector')}"

# Lingua is most accurate on the first few hundred words; more only costs time.
MAX_CHARS = 2000


@lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]) -> LanguageDetector:
    chosen = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in languages]
    if len(chosen) < 2:
        raise ValueError("language detection needs at least two configured languages")
    # Preloading builds the models once per process instead of on the first article.
    return LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models().build()


def detect_language(text: str, languages: tuple[str, ...]) -> tuple[str | None, float]:
    """Return the ISO 639-1 code and confidence of the most likely language, or (None, 0.0)."""
    values = _detector(languages).compute_language_confidence_values(text[:MAX_CHARS])
    if not values or values[0].value <= 0:
        return None, 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), round(best.value, 4)
