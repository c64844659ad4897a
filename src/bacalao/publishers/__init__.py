"""Publishers: where a finished execution's results folder is published.

Each publisher type is one plugin module (see `base` for the interface
and `registry` for the list); `set.Publishers` is the set a node built.

    local       the folder stays on this node; its HTTP API serves it as a
                tar.gz (a `urlDownload` result, as Bacalhau's local publisher)
    noop        nothing is published (an empty type means the same: the
                task's output is still returned in the execution's RunOutput)
    s3          uploaded to the job's bucket and key prefix (`s3`)
    s3managed   uploaded to the operator's bucket (`s3managed`)

`downloads` turns a published S3 result into pre-signed URLs for `job get`.
This package imports nothing heavy, so the CLI can read `registry`.
"""
