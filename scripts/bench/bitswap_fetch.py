"""Bitswap fetch throughput: 64 MiB of 256 KiB blocks between two bacalao
hosts, against one raw libp2p stream between the same hosts and `cp` of
the same bytes on disk, interleaved in one run.

    python scripts/bench/bitswap_fetch.py [--mib 64] [--rounds 3] [--disk] [--json FILE]

The serving host is a child process (this script with `--serve`), so each
host has a core of its own as two nodes would. Every round fetches every
block afresh (the client's store is emptied first). The raw baseline is a
stream on which the server writes the same 64 MiB in 1 MiB writes. The
goal is bitswap ≥ 50% of the raw stream. Blocks live in memory on both
hosts unless `--disk` (the on-disk blockstore on both, in the work dir).
Exit status 0 whatever the figures; 1 if a phase broke.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID

from bacalao.ipfs.bitswap import Bitswap
from bacalao.ipfs.blocks import Blocks, MemoryBlocks
from bacalao.ipfs.blockstore import Blockstore
from bacalao.ipfs.cid import CID, RAW
from bacalao.p2p.host import Swarm, SwarmConfig

BLOCK = 256 * 1024
RAW_PROTOCOL = TProtocol("/bacalao-bench/raw/1.0.0")
WRITE = 1024 * 1024
GOAL = 0.5


def make_blocks(mib: int) -> list[tuple[CID, bytes]]:
    """Deterministic incompressible blocks (both processes derive the same)."""
    out = []
    for i in range(mib * 1024 * 1024 // BLOCK):
        data = hashlib.shake_256(i.to_bytes(8, "big")).digest(BLOCK)
        out.append((CID.of(data, version=1, codec=RAW), data))
    return out


def start_swarm(work: Path, name: str) -> Swarm:
    return Swarm(work / name, SwarmConfig(listen_host="127.0.0.1", port=0))


# -- the serving process -----------------------------------------------------


async def open_store(work: Path, name: str, disk: bool) -> Blocks:
    if disk:
        return await Blockstore.open(work / f"{name}-blocks")
    return MemoryBlocks()


async def empty(store: Blocks, work: Path, name: str) -> Blocks:
    """The same kind of store, with no blocks in it."""
    if isinstance(store, MemoryBlocks):
        store.blocks.clear()
        return store
    assert isinstance(store, Blockstore)
    store.close()
    await trio.to_thread.run_sync(shutil.rmtree, work / f"{name}-blocks")
    return await open_store(work, name, True)


async def serve(mib: int, work: Path, disk: bool) -> None:
    items = make_blocks(mib)
    blocks = await open_store(work, "server", disk)
    for cid, data in items:
        await blocks.put(cid, data)
    payload = b"".join(data for _, data in items)
    swarm = start_swarm(work, "server")

    async def raw(stream: Any) -> None:
        for start in range(0, len(payload), WRITE):
            await stream.write(payload[start : start + WRITE])
        await stream.close()

    async with trio.open_nursery() as nursery:
        await nursery.start(swarm.run)
        swarm.host.set_stream_handler(RAW_PROTOCOL, raw)
        await nursery.start(Bitswap(swarm, blocks).run)
        print(json.dumps({"addr": swarm.p2p_addrs[0]}), flush=True)
        await trio.sleep_forever()


# -- the fetching process ----------------------------------------------------


async def fetch_raw(swarm: Swarm, server: str, size: int) -> float:
    start = time.perf_counter()
    stream = await swarm.host.new_stream(ID.from_base58(server), [RAW_PROTOCOL])
    got = 0
    while True:
        try:
            chunk = await stream.read(WRITE)
        except EOFError:
            break
        if not chunk:
            break
        got += len(chunk)
    elapsed = time.perf_counter() - start
    await stream.close()
    if got != size:
        raise RuntimeError(f"raw stream gave {got} bytes of {size}")
    return elapsed


async def fetch_bitswap(
    bitswap: Bitswap, items: list[tuple[CID, bytes]], server: str
) -> float:
    start = time.perf_counter()
    got = 0
    async for _cid, data in bitswap.get_blocks(
        [cid for cid, _ in items], providers=[server], no_progress_timeout=30
    ):
        got += len(data)
    elapsed = time.perf_counter() - start
    if got != sum(len(d) for _, d in items):
        raise RuntimeError("bitswap fetch came back short")
    return elapsed


def copy_file(items: list[tuple[CID, bytes]], work: Path) -> float:
    source = work / "blocks.bin"
    if not source.exists():
        with source.open("wb") as out:
            for _, data in items:
                out.write(data)
    target = work / "copy.bin"
    target.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    return time.perf_counter() - start


def spawn_server(mib: int, work: Path, disk: bool) -> tuple[subprocess.Popen[str], str]:
    """The serving process and its swarm address."""
    argv = [sys.executable, __file__, "--serve", "--mib", str(mib), "--work", str(work)]
    child = subprocess.Popen(
        argv + (["--disk"] if disk else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.startswith("{"):
        child.kill()
        raise RuntimeError("the serving process did not start")
    return child, json.loads(line)["addr"]


async def measure(args: argparse.Namespace, work: Path, addr: str) -> dict[str, Any]:
    server = addr.rsplit("/p2p/", 1)[1]
    items = make_blocks(args.mib)
    size = sum(len(d) for _, d in items)
    swarm = start_swarm(work, "client")
    store = await open_store(work, "client", args.disk)
    times: dict[str, list[float]] = {"raw": [], "bitswap": [], "cp": []}
    dups = 0
    async with trio.open_nursery() as nursery:
        await nursery.start(swarm.run)
        await Bitswap(swarm, store).connect(addr)
        await fetch_raw(swarm, server, size)  # warm-up: windows, links
        for _ in range(args.rounds):
            times["raw"].append(await fetch_raw(swarm, server, size))
            store = await empty(store, work, "client")
            async with trio.open_nursery() as round_nursery:
                bitswap = Bitswap(swarm, store)
                await round_nursery.start(bitswap.run)
                times["bitswap"].append(await fetch_bitswap(bitswap, items, server))
                dups += bitswap.statistics().duplicate_blocks
                round_nursery.cancel_scope.cancel()
            times["cp"].append(await trio.to_thread.run_sync(copy_file, items, work))
        nursery.cancel_scope.cancel()
    return report(times, size, dups, args.disk)


def report(
    times: dict[str, list[float]], size: int, dups: int, disk: bool
) -> dict[str, Any]:
    mib = size / 2**20
    rates = {k: mib / statistics.median(v) for k, v in times.items()}
    return {
        "mib": mib,
        "block_kib": BLOCK // 1024,
        "store": "disk" if disk else "memory",
        "rounds": len(times["raw"]),
        "median_mib_s": {k: round(v, 1) for k, v in rates.items()},
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "bitswap_vs_raw": round(rates["bitswap"] / rates["raw"], 3),
        "goal": GOAL,
        "duplicate_blocks": dups,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--disk", action="store_true", help="on-disk blockstores")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args.mib, args.work, args.disk)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bitswap-bench-"))
    child: subprocess.Popen[str] | None = None
    try:
        child, addr = spawn_server(args.mib, work, args.disk)
        result = trio.run(measure, args, work, addr)
    except Exception as exc:
        print(f"bitswap bench broke: {exc!r}", file=sys.stderr)
        return 1
    finally:
        if child is not None:
            child.terminate()
            child.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    r = result["median_mib_s"]
    print(
        f"{result['mib']:.0f} MiB in {result['block_kib']} KiB blocks "
        f"({result['store']} stores), median of "
        f"{result['rounds']}: bitswap {r['bitswap']} MiB/s, raw libp2p stream "
        f"{r['raw']} MiB/s, cp {r['cp']} MiB/s; bitswap/raw = "
        f"{result['bitswap_vs_raw']:.0%} (goal {GOAL:.0%})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
