"""The HTTP client of a node's API, standard library only.

    api     `Client`: every v1 endpoint the CLI uses, and waiting for a job
    streams a job's logs and downloads (`Client` inherits them)
    conn    where the API is (`Endpoint`, `parse_api_url`) and TLS
    wire    encoding queries, decoding answers and API errors
    ws      a small blocking WebSocket client (log following)
    ipfs    the node's IPFS routes: add, cat, get, ls, pins
    errors  what the client raises (`ClientError` and its kinds)

Importing it is cheap (no pydantic, trio or libp2p): the CLI's light
commands stay fast.
"""
