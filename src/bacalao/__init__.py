"""bacalao: a peer-to-peer compute-over-data network."""
