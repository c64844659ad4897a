"""Tests of the executors (docker, wasm, noop) and their helpers."""
