"""The compute side of a node: bid on tasks, run them, report the results.

service     `Compute`: bids, holds capacity, runs, reports (the loop)
bidder      whether to bid on a job: a pure decision
capacity    resources held and work queued (closed while stopping)
runner      one execution's work: stage inputs, run, publish
executions  the node's own record of its executions, and its outbox
updates     delivering execution updates to requesters until acked
leases      keeping the requesters' leases on held executions
logs        an execution's output as lines, optionally followed live
settings    the compute service's settings, from the node's config
exceptions  the package's errors
"""
