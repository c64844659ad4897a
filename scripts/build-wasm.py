#!/usr/bin/env python3
"""Compile the WebAssembly text examples (examples/wasm/*.wat) to .wasm.

    .venv/bin/python scripts/build-wasm.py [--out DIR] [FILE.wat ...]

Without files, compiles every .wat in examples/wasm; writes NAME.wasm next
to each source, or into --out DIR. Uses wasmtime's `wat2wasm`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import wasmtime

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "wasm"


def build(source: Path, out_dir: Path | None) -> Path:
    """Compile one .wat file; return the path of the .wasm written."""
    target = (out_dir or source.parent) / (source.stem + ".wasm")
    target.write_bytes(wasmtime.wat2wasm(source.read_text()))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=".wat files")
    parser.add_argument("--out", type=Path, help="folder for the .wasm files")
    args = parser.parse_args(argv)
    sources = args.files or sorted(EXAMPLES.glob("*.wat"))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for source in sources:
        try:
            target = build(source, args.out)
        except (OSError, wasmtime.WasmtimeError) as exc:
            print(f"build-wasm: {source}: {exc}", file=sys.stderr)
            return 1
        print(f"build-wasm: {source.name} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
