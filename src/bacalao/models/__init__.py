"""The data everything else speaks: pydantic models in Bacalhau's JSON shape.

    job, engines, resources, selectors, data_url   the job spec
    execution, history, states, ids                what happens to a job
    node                                           nodes as the network sees them
    api                                            v1 REST request/response bodies
    wire                                           messages between nodes
    base                                           Bacalhau's JSON conventions

Imports nothing of bacalao outside this package.
"""
