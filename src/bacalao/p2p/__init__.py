"""The peer-to-peer layer: py-libp2p on trio, behind small typed faces.

    host          the libp2p host: identity, transports, gossip, RPC, discovery
    gossip        typed gossipsub topics (validated models in and out)
    rpc, channel  typed request/response, many calls on one stream per peer
    codec         length-prefixed frames
    discovery     bootstrap dialing and peer exchange
    gate          the peer allow-list
    identity, swarm_key   the node's key; private-network keys
    interfaces    the faces the node's services are given
    ratelog       bounded counting and logging about peers
    libp2p_fixes  upstream defects, each fixed where we use it
    exceptions    the package's errors

Imports nothing of bacalao outside this package.
"""
