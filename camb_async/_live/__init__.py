"""Live sessions over WebSockets: live TTS, live transcription and speech-to-speech.

* ``_socket``: one session's connection (:class:`~._socket.LiveEndpoint` opens it,
  :class:`~._socket.LiveSocket` sends and receives, errors are typed and redacted);
* ``_messages``: the base event class (:class:`~._messages.LiveEvent`, also the event of
  a type this SDK does not know) and the decoding of a server message into one;
* ``tts``, ``transcription``, ``speech``: one module per protocol, each a resource
  (``client.live_tts``, ``client.live_transcription``, ``client.realtime``) made by the
  client over a ``LiveEndpoint``, its session class and its typed events.
"""
