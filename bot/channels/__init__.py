"""Messaging channels: Zalo OA, Facebook Messenger and the website widget (socket.io).

One concern per module:

- ``signatures``: webhook signatures (Zalo ``X-ZEvent-Signature``, Messenger ``X-Hub-Signature-256``)
  and timestamp freshness;
- ``store``: a small key-value store, in memory or in Redis (shared by replicas);
- ``dedup``: "was this delivery seen already?" on top of the store;
- ``choices``: numbered choices a user can answer with a digit;
- ``splitting``: long texts cut on paragraph, line or word boundaries;
- ``http``: one lazily opened aiohttp session with timeouts and retries;
- ``zalo_api``: the Zalo OA API client and the shared, rotating token store;
- ``background``: acknowledge now, process in the background, one user's messages in order;
- ``zalo``, ``messenger``, ``socketio``: the Rasa input/output channels;
- ``web``: the demo page and the chat bubble (rasa-webchat) a portal embeds with one script tag.

Nothing here does I/O at import time: sessions and connections open inside the running loop.
"""
