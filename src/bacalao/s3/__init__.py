"""S3 as the node uses it: aioboto3 on an asyncio thread, behind trio calls.

    loop.py       the asyncio thread trio code awaits coroutines on
    service.py    S3Service: credentials, one client per region+endpoint,
                  `call` (errors translated to `S3Error`), pre-signing
    transfer.py   streamed GETs to files and PUTs from files (multipart
                  above a threshold), run on the asyncio thread
    keys.py       pure helpers: key templates, prefixes, checksums
    errors.py     S3Error and the translation of botocore's errors

The input source (`storage/s3.py`) and the publishers (`publishers/s3.py`,
`publishers/s3managed.py`) are the only users.
"""
