"""The ingest layer: transports that yield raw messages and a connection state.

Modules here know nothing about vendors or screens and never import textual:

- ``raw``: `RawMessage` (one line, frame or parsed document) and `FeedStatus` (a source's state).
- ``capture``: read capture files (.jsonl, .json, .yaml, each optionally .gz, or "-" for stdin).
- ``recording``: the ``--record`` JSONL format, written by the websocket client, unwrapped by capture.
- ``replay``: pace a capture by its event timestamps; pause, step, seek, loop, change speed.
- ``websocket_client``: a reconnecting websocket client with its own backoff, TLS and bearer token.
- ``feed_server``: a websocket server that serves a capture (used by ``callwatch serve`` and the demo).

Submodules are imported explicitly (``from tui.ingest.replay import Replay``) so that importing one
transport does not pull in the others' dependencies.
"""
