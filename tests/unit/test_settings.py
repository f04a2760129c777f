"""Settings: a bad value is a ConfigError that names its environment variable."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import get_settings


def test_bad_settings_name_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_FETCH_TIMEOUT", "soon")
    monkeypatch.setenv("NEWS_DIGEST_TIMEZONE", "Mars/Olympus_Mons")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            get_settings()
    finally:
        get_settings.cache_clear()
    message = str(caught.value)
    assert "NEWS_FETCH_TIMEOUT: Input should be a valid number" in message
    assert "NEWS_DIGEST_TIMEZONE: Value error, unknown time zone 'Mars/Olympus_Mons'" in message
