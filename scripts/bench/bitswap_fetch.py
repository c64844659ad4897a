"""Bitswap fetch throughput: 64 MiB of 256 KiB blocks between two bacalao
hosts, against one raw libp2p stream between the same hosts and `cp` of
the same bytes on disk, interleaved in one run.

    python scripts/bench/bitswap_fetch.py [--mib 64] [--rounds 3] [--json FILE]

The serving host is a child process (this script with `--serve`), so each
host has a core of its own as two nodes would. Every round fetches every
block afresh (the client's store is emptied first). The raw baseline is a
stream on which the server writes the same 64 MiB in 1 MiB writes. The
goal is bitswap ≥ 50% of the raw stream. Exit status 0 whatever the
figures; 1 if a phase broke.
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
from bacalao.ipfs.blocks import MemoryBlocks
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


async def serve(mib: int, work: Path) -> None:
    items = make_blocks(mib)
    blocks = MemoryBlocks()
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
    bitswap: Bitswap, blocks: MemoryBlocks, items: list[tuple[CID, bytes]], server: str
) -> float:
    blocks.blocks.clear()
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


def spawn_server(mib: int, work: Path) -> tuple[subprocess.Popen[str], str]:
    """The serving process and its swarm address."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--mib", str(mib), "--work", str(work)],
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
    blocks = MemoryBlocks()
    times: dict[str, list[float]] = {"raw": [], "bitswap": [], "cp": []}
    async with trio.open_nursery() as nursery:
        await nursery.start(swarm.run)
        bitswap = Bitswap(swarm, blocks)
        await nursery.start(bitswap.run)
        await bitswap.connect(addr)
        await fetch_raw(swarm, server, size)  # warm-up: windows, links
        for _ in range(args.rounds):
            times["raw"].append(await fetch_raw(swarm, server, size))
            times["bitswap"].append(await fetch_bitswap(bitswap, blocks, items, server))
            times["cp"].append(await trio.to_thread.run_sync(copy_file, items, work))
        stats = bitswap.statistics()
        nursery.cancel_scope.cancel()
    return report(times, size, stats.duplicate_blocks)


def report(times: dict[str, list[float]], size: int, dups: int) -> dict[str, Any]:
    mib = size / 2**20
    rates = {k: mib / statistics.median(v) for k, v in times.items()}
    return {
        "mib": mib,
        "block_kib": BLOCK // 1024,
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
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args.mib, args.work)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bitswap-bench-"))
    child: subprocess.Popen[str] | None = None
    try:
        child, addr = spawn_server(args.mib, work)
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
        f"{result['mib']:.0f} MiB in {result['block_kib']} KiB blocks, median of "
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
