"""Persisted queries: Apollo's Automatic Persisted Queries (APQ) and an operation allow-list.

A client may name its operation by hash instead of (or as well as) sending its text:
``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex SHA-256 of the text>"}}``.
What happens depends on ``CASEGRAPH_PERSISTED_QUERIES``:

``apq`` (the default)
    A hash alone runs the document it names when this process has seen it lately (a bounded
    in-memory LRU filled by clients' hash-and-text requests) or when it is registered; otherwise
    the answer is ``PERSISTED_QUERY_NOT_FOUND`` and the client resends the text with the hash.
    Clients never write to the database: anyone could fill it.
``allowlist``
    Only registered documents run, named by hash or sent as text. The check is on the final text
    of every operation, so it covers GET, POST and WebSocket alike; an unknown hash is
    ``PERSISTED_QUERY_NOT_FOUND``, unregistered text ``PERSISTED_QUERY_NOT_ALLOWED``.
    Introspection is not exempt (register the query a tool sends, or use another mode there), and
    neither is ``registerPersistedQuery``: bootstrap with ``casegraph persisted-queries register``.
``off``
    Requests carrying a persistedQuery extension are refused (``PERSISTED_QUERY_NOT_SUPPORTED``).

Documents are registered with ``casegraph persisted-queries register`` (whole ``.graphql`` files,
or an Apollo ``persisted-query-manifest.json``) or the ADMIN mutation ``registerPersistedQuery``.
Each process caches registered lookups for ``REGISTERED_TTL`` seconds: a newly registered hash
runs at once, a removed one may still run for up to that long.

``protocol`` resolves a request's document, ``caches`` holds the per-process memory, ``gate`` is
the allow-list's schema extension and ``registry`` the registered documents in the database.
"""
