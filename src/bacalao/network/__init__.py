"""What every node runs to know the network, requester or compute alike.

    nodes        the node table: membership, liveness, signed node info
    announce     telling peers who we are, and hearing who they are
    signed_info  node info sealed with the node's own key, and its checks
    shared_view  the replicated job view: job-events gossip and state sync
    signals      `ChangeSignal`, waking every waiter when something changed
"""
