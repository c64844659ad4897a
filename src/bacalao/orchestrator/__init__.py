"""The orchestrator (requester) side: accept jobs, place them, drive each
to its end.

    service      `Orchestrator`: the event loop around the scheduler
    scheduler    pure reactions of one job to what happens to it
    record       one job's live state and the rules that change it
    selection    which nodes can run a job, best first, and why not
    submission   a submitted job into a stored one (checks: `validation`)
    inbox, active, committer, outbound, reports
                 mailboxes, jobs in progress, storing changes, what is sent
                 to compute nodes and what they report
    store        jobs, executions and history in SQLite
    settings     the orchestrator's settings, from the node's config
    exceptions   the errors it raises to its callers (the API maps them)
"""
