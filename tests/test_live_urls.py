"""Where each live protocol connects: derived from base_url, realtime_url (or CAMB_REALTIME_URL)
and live_transcription_url, checked before anything connects."""

from __future__ import annotations

import logging

import httpx
import pytest
from support import API_KEY

from camb_async import AsyncCambClient
from camb_async._live._urls import live_urls


def make(**options: object) -> AsyncCambClient:
    """A client that owns no HTTP client (nothing to close): only its URLs are looked at."""
    return AsyncCambClient(API_KEY, http_client=httpx.AsyncClient(), **options)  # type: ignore[arg-type]


def urls_of(client: AsyncCambClient) -> tuple[str, str, str]:
    """The live TTS, live transcription and realtime URLs the client's sessions connect to."""
    live_tts, live_transcription, realtime = client._live
    return live_tts.url, live_transcription.url, realtime.url


def test_the_defaults_follow_the_api_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live TTS and transcription under base_url's path, realtime on its own host."""
    monkeypatch.delenv("CAMB_BASE_URL", raising=False)
    monkeypatch.delenv("CAMB_REALTIME_URL", raising=False)
    assert urls_of(make()) == (
        "wss://client.camb.ai/apis/live-tts/ws",
        "wss://client.camb.ai/apis/transcription/listen",
        "wss://realtime.camb.ai/v1/realtime",
    )


def test_http_base_and_realtime_urls_become_websocket_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """http(s) becomes ws(s), ws(s) stays as given, a trailing slash goes, /v1/realtime is appended once."""
    monkeypatch.delenv("CAMB_REALTIME_URL", raising=False)
    client = make(base_url="http://127.0.0.1:8123/apis/", realtime_url="http://127.0.0.1:8124/")
    assert urls_of(client) == (
        "ws://127.0.0.1:8123/apis/live-tts/ws",
        "ws://127.0.0.1:8123/apis/transcription/listen",
        "ws://127.0.0.1:8124/v1/realtime",
    )
    for given in ("wss://rt.example.test", "https://rt.example.test", "wss://rt.example.test/v1/realtime"):
        assert live_urls("https://a.test/apis", realtime_url=given, live_transcription_url=None).realtime == (
            "wss://rt.example.test/v1/realtime"
        )


def test_the_environment_names_the_realtime_host_and_the_option_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """CAMB_REALTIME_URL is the default of realtime_url=."""
    monkeypatch.setenv("CAMB_REALTIME_URL", "wss://env.example.test")
    assert urls_of(make())[2] == "wss://env.example.test/v1/realtime"
    assert urls_of(make(realtime_url="wss://given.example.test"))[2] == "wss://given.example.test/v1/realtime"


def test_live_transcription_url_replaces_the_whole_url_and_copies_keep_every_url() -> None:
    """camb-sdk's host and path, given whole; with_options() clients connect where their parent does."""
    client = make(
        realtime_url="wss://rt.example.test",
        live_transcription_url="https://realtime.camb.ai/streaming-transcription/listen",
    )
    assert urls_of(client)[1] == "wss://realtime.camb.ai/streaming-transcription/listen"
    assert urls_of(client.with_options(max_retries=0, timeout=3.0)) == urls_of(client)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("realtime_url", "ftp://rt.example.test", "ws\\(s\\) or http\\(s\\) URL"),
        ("realtime_url", "wss://", "ws\\(s\\) or http\\(s\\) URL|not a valid URL"),
        ("realtime_url", "wss://rt.example.test?api_key=x", "query"),
        ("live_transcription_url", "wss://user:pw@rt.example.test/listen", "credentials"),
        ("live_transcription_url", "wss://rt.example.test/listen#frag", "fragment"),
    ],
)
def test_bad_live_urls_are_value_errors_at_construction(option: str, value: str, message: str) -> None:
    """A URL that is no WebSocket URL with a host, or that carries a query, credentials or a
    fragment (where a key could hide), is refused when the client is made."""
    with pytest.raises(ValueError, match=message):
        make(**{option: value})


def test_a_plain_ws_url_to_another_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    """ws:// sends the key unencrypted: a warning, except to this machine."""
    with caplog.at_level(logging.WARNING, logger="camb_async"):
        make(realtime_url="ws://127.0.0.1:9")
        assert not caplog.records
        make(realtime_url="ws://rt.example.test")
    (record,) = caplog.records
    assert "unencrypted" in record.getMessage()
    assert API_KEY not in record.getMessage()
