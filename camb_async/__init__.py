"""camb_async: the asyncio/trio SDK for the CAMB.AI speech API.

async with camb_async.AsyncCambClient() as client:
    task_id = await client.tts.create(text="Hello!", voice_id=20303, language="en-us")
    final = await client.tts.wait(task_id)
    await client.tts.download(final.run_id, "hello.flac")
"""

from __future__ import annotations

from ._capture import RawResponse, capture_responses
from ._client import AsyncCambClient
from ._constants import (
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_CONCURRENT_TRANSFERS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WATCH_TIMEOUT,
)
from ._events import (
    CambEvent,
    EventHook,
    LiveSessionEnded,
    LiveSessionReady,
    LiveSessionRef,
    LiveSessionStarted,
    RateLimitPaused,
    RequestEnded,
    RetryScheduled,
    StatusChanged,
    WatchEnded,
    WatchRef,
    WatchStarted,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CambError,
    ClientClosedError,
    ConflictError,
    CreateOutcomeUnknownError,
    DownloadInterruptedError,
    InternalServerError,
    LiveConnectionError,
    LiveSessionError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    TaskError,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskTimedOutError,
    UnprocessableEntityError,
    WatchTimeoutError,
)
from ._handles import TaskFamily, TaskHandle
from ._live._messages import LiveEvent
from ._live._messages_speech import (
    RealtimeAudio,
    RealtimeErrorDetail,
    RealtimeErrorEvent,
    RealtimeEvent,
    RealtimeLanguageEvent,
    RealtimeSessionInfo,
    RealtimeSessionUpdated,
    RealtimeText,
    RealtimeTranscript,
)
from ._live._messages_transcription import (
    LiveTranscript,
    LiveTranscriptionEvent,
    LiveTranscriptionReady,
    LiveTranscriptWord,
    LiveUtteranceEnd,
)
from ._live._messages_tts import (
    LiveTTSAudio,
    LiveTTSEvent,
    LiveTTSFormat,
    LiveTTSSegmentDone,
    LiveTTSSegmentSkipped,
    LiveTTSSegmentStarted,
    LiveTTSSessionDone,
    LiveTTSSessionReady,
    LiveTTSWord,
)
from ._live.speech import Realtime, RealtimeSession
from ._live.transcription import LiveTranscription, LiveTranscriptionSession
from ._live.tts import LiveTTS, LiveTTSSession
from ._many import Completed
from ._models import TERMINAL_STATES, TaskCreated, TaskState, TaskStatus
from ._polling import PollSchedule, TaskWatches
from ._resources import TaskResource
from ._resources._files import FileResults, FileUrl, OutputType
from ._resources._models import SubtitleFormatting, TranscriptSegment
from ._resources.audio_separation import AudioSeparation, AudioSeparationResult
from ._resources.dubbing import (
    Dubbing,
    DubbingAltFormat,
    DubbingResult,
    SourceTranscript,
    TargetTranscript,
)
from ._resources.library import Dictionaries, Dictionary, DictionaryTerm, Folder, Folders, TermTranslation
from ._resources.live_streams import (
    LiveStreams,
    SourceStream,
    StreamConfig,
    StreamMixing,
    StreamPipeline,
    TargetStream,
)
from ._resources.project_setup import ProjectSetup, ProjectSetupResult
from ._resources.story import Story, StoryMessage, StoryResult, StorySetup, TranslatedStory
from ._resources.subtitles import Subtitles
from ._resources.text_to_sound import TextToSound
from ._resources.text_to_voice import TextToVoice, TextToVoiceResult
from ._resources.transcription import Transcription, TranscriptionResult
from ._resources.translated_tts import TranslatedTTS
from ._resources.translation import Translation, TranslationResult
from ._resources.tts import TTS, InferenceOptions, OutputConfiguration, SpeechModel, VoiceSettings
from ._resources.voices import Language, Languages, Voice, Voices
from ._streams import (
    TERMINAL_STREAM_STATES,
    LiveStream,
    LiveStreamCreated,
    LiveStreamState,
    ProbedAudioStream,
    ProbedDataStream,
    ProbedVideoStream,
    StreamLanguageUrl,
    StreamProbe,
)
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_CONCURRENT_REQUESTS",
    "DEFAULT_MAX_CONCURRENT_TRANSFERS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WATCH_TIMEOUT",
    "NOT_GIVEN",
    "TERMINAL_STATES",
    "TERMINAL_STREAM_STATES",
    "TTS",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCambClient",
    "AudioSeparation",
    "AudioSeparationResult",
    "AuthenticationError",
    "BadRequestError",
    "CambError",
    "CambEvent",
    "ClientClosedError",
    "Completed",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "Dictionaries",
    "Dictionary",
    "DictionaryTerm",
    "DownloadInterruptedError",
    "Dubbing",
    "DubbingAltFormat",
    "DubbingResult",
    "EventHook",
    "FileResults",
    "FileUrl",
    "Folder",
    "Folders",
    "InferenceOptions",
    "InternalServerError",
    "Language",
    "Languages",
    "LiveConnectionError",
    "LiveEvent",
    "LiveSessionEnded",
    "LiveSessionError",
    "LiveSessionReady",
    "LiveSessionRef",
    "LiveSessionStarted",
    "LiveStream",
    "LiveStreamCreated",
    "LiveStreamState",
    "LiveStreams",
    "LiveTTS",
    "LiveTTSAudio",
    "LiveTTSEvent",
    "LiveTTSFormat",
    "LiveTTSSegmentDone",
    "LiveTTSSegmentSkipped",
    "LiveTTSSegmentStarted",
    "LiveTTSSession",
    "LiveTTSSessionDone",
    "LiveTTSSessionReady",
    "LiveTTSWord",
    "LiveTranscript",
    "LiveTranscriptWord",
    "LiveTranscription",
    "LiveTranscriptionEvent",
    "LiveTranscriptionReady",
    "LiveTranscriptionSession",
    "LiveUtteranceEnd",
    "NotFoundError",
    "NotGiven",
    "OutputConfiguration",
    "OutputType",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PollSchedule",
    "ProbedAudioStream",
    "ProbedDataStream",
    "ProbedVideoStream",
    "ProjectSetup",
    "ProjectSetupResult",
    "RateLimitError",
    "RateLimitPaused",
    "RawResponse",
    "Realtime",
    "RealtimeAudio",
    "RealtimeErrorDetail",
    "RealtimeErrorEvent",
    "RealtimeEvent",
    "RealtimeLanguageEvent",
    "RealtimeSession",
    "RealtimeSessionInfo",
    "RealtimeSessionUpdated",
    "RealtimeText",
    "RealtimeTranscript",
    "RequestEnded",
    "ResponseValidationError",
    "RetryScheduled",
    "SourceStream",
    "SourceTranscript",
    "SpeechModel",
    "StatusChanged",
    "Story",
    "StoryMessage",
    "StoryResult",
    "StorySetup",
    "StreamConfig",
    "StreamLanguageUrl",
    "StreamMixing",
    "StreamPipeline",
    "StreamProbe",
    "SubtitleFormatting",
    "Subtitles",
    "TargetStream",
    "TargetTranscript",
    "TaskCreated",
    "TaskError",
    "TaskFailedError",
    "TaskFamily",
    "TaskHandle",
    "TaskPaymentRequiredError",
    "TaskResource",
    "TaskState",
    "TaskStatus",
    "TaskTimedOutError",
    "TaskWatches",
    "TermTranslation",
    "TextToSound",
    "TextToVoice",
    "TextToVoiceResult",
    "TranscriptSegment",
    "Transcription",
    "TranscriptionResult",
    "TranslatedStory",
    "TranslatedTTS",
    "Translation",
    "TranslationResult",
    "UnprocessableEntityError",
    "Voice",
    "VoiceSettings",
    "Voices",
    "WatchEnded",
    "WatchRef",
    "WatchStarted",
    "WatchTimeoutError",
    "__version__",
    "capture_responses",
]


def _show_as_public() -> None:
    """Show public classes as camb_async.X in reprs, tracebacks and docs, not camb_async._client.X."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("camb_async._"):
            obj.__module__ = "camb_async"


_show_as_public()
del _show_as_public
