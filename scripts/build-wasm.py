#!/usr/bin/env python3
"""Compile the WebAssembly text examples (examples/wasm/*.wat) to .wasm.

    .venv/bin/python scripts/build-wasm.py [--out DIR] [FILE.wat ...]
    .venv/bin/python scripts/build-wasm.py --specs [--check]

Without files, compiles every .wat in examples/wasm; writes NAME.wasm next
to each source, or into --out DIR. Uses wasmtime's `wat2wasm`.

`--specs` refreshes the modules the job specs of examples/executors and
examples/specs carry inline: every line of the form

    URL: data:application/wasm;base64,<base64> # wasm/NAME.wat

gets the module compiled from examples/wasm/NAME.wat. With `--check` it
changes nothing and exits 1 if a spec is out of date.
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
from pathlib import Path

import wasmtime

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "wasm"
SPECS = (ROOT / "examples" / "executors", ROOT / "examples" / "specs")
INLINE = re.compile(r"(URL: data:application/wasm;base64,)(\S*)( # (\S+\.wat))$", re.M)


def build(source: Path, out_dir: Path | None) -> Path:
    """Compile one .wat file; return the path of the .wasm written."""
    target = (out_dir or source.parent) / (source.stem + ".wasm")
    target.write_bytes(wasmtime.wat2wasm(source.read_text()))
    return target


def inline_modules(text: str) -> str:
    """`text` with every inline module line holding its freshly compiled .wat."""

    def fresh(match: re.Match[str]) -> str:
        wat = (ROOT / "examples" / match.group(4)).read_text()
        encoded = base64.b64encode(wasmtime.wat2wasm(wat)).decode()
        return match.group(1) + encoded + match.group(3)

    return INLINE.sub(fresh, text)


def refresh_specs(check: bool) -> int:
    stale = []
    for spec in sorted(p for folder in SPECS for p in folder.glob("*.yaml")):
        text = spec.read_text()
        fresh = inline_modules(text)
        if fresh != text:
            stale.append(spec)
            if not check:
                spec.write_text(fresh)
    verb = "out of date" if check else "updated"
    for spec in stale:
        print(f"build-wasm: {spec.relative_to(ROOT)} {verb}")
    return 1 if check and stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=".wat files")
    parser.add_argument("--out", type=Path, help="folder for the .wasm files")
    parser.add_argument("--specs", action="store_true", help="refresh inline modules")
    parser.add_argument("--check", action="store_true", help="with --specs: only check")
    args = parser.parse_args(argv)
    if args.specs:
        return refresh_specs(args.check)
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
