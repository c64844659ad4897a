"""The IPFS peer every bacalao node is: CIDs, UnixFS, blocks, bitswap.

cid.py         CIDs v0/v1, multihash, varints, bitswap prefixes
protobuf.py    the protobuf wire format dag-pb and UnixFS need
dagpb.py       dag-pb nodes (PBNode/PBLink), Kubo's canonical bytes
unixfs.py      UnixFS `Data` (file, directory, symlink, HAMT shard, ...)
layout.py      Kubo's balanced file DAG (256 KiB chunks, 174 links)
importer.py    add files and directories with `ipfs add`'s CIDs
nodes.py       decode a block as a UnixFS node; directory entries
exporter.py    cat, ls, export (streaming, through `Blocks`)
dag.py         links of a block; what pins reach
blocks.py      the `Blocks` (async) and `BlockSink` (blocking) interfaces
blockstore.py  blocks on disk, pins, gc, stat
pins.py        the pin set in SQLite
writer.py      parallel block writes for imports
exceptions.py  the package's errors
"""
