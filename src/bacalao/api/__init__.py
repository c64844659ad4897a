"""The HTTP API: Bacalhau's v1 REST endpoints over a node's `Backend`.

    app.py         ASGI app + `serve_api` (hypercorn, trio mode)
    router.py      path router (HTTP and WebSocket routes)
    http.py        Request/Response, body reading, JSON responses
    query.py       typed query parameters
    paging.py      NextToken paging
    errors.py      error responses (Bacalhau's APIError JSON)
    submission.py  PUT /jobs: parse, check, sanitize
    lookup.py      a job by ID, ID prefix or name
    agent.py, jobs.py, nodes.py   the routes
    logs.py        the logs WebSocket
    results.py     the local publisher's results, as a streamed tar.gz
    openapi.py     the OpenAPI document, built from the routes
    backend.py     what the API needs from a node (the seam)
    node_backend.py  `NodeBackend`: that seam on a running node
    gate.py        requests in flight; 503 for new ones while stopping
    spec_bounds.py size, depth and unknown fields of a submitted spec
    ipfs.py        the IPFS routes (add, cat, get, ls, pins)

Import `bacalao.api.app` for `serve_api`; this package imports nothing so
that `bacalao.api.backend` stays cheap.
"""
