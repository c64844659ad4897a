"""The IPFS peer every bacalao node is: CIDs, UnixFS, blocks, bitswap."""
