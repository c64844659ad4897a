"""Stopping a WASM run from outside, even while it sleeps.

An `Interrupt` stops one run: it bumps the run's engine epoch, which traps
the module at its next loop or call, and wakes any sleep the module is in.

The sleep is WASI's `poll_oneoff`, the only call of a task that can block
for long here (stdin is empty, every descriptor is a file, there are no
sockets). wasmtime's own version blocks its thread until the time is up,
where no epoch can reach it, so `define_poll_oneoff` replaces it with one
that waits on the interrupt:

- clock subscriptions: wait until the earliest deadline, or the interrupt;
  report every clock whose deadline has passed;
- descriptor subscriptions: reported ready at once (files always are).

Layouts are WASI preview 1's: a subscription is 48 bytes (userdata u64,
tag u8 at 8, then clock id u32 at 16, timeout u64 at 24, flags u16 at 40,
or fd u32 at 16); an event is 32 bytes (userdata u64, errno u16 at 8, type
u8 at 10, nbytes u64 at 16, flags u16 at 24).
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass

import wasmtime

_SUBSCRIPTION = 48
_EVENT = 32
_CLOCK, _FD_READ, _FD_WRITE = 0, 1, 2
_ABSTIME = 1
_REALTIME, _MONOTONIC = 0, 1
_SUCCESS, _EFAULT, _EINVAL, _ENOTSUP = 0, 21, 28, 58


class Interrupted(Exception):
    """Raised inside a run whose `Interrupt` fired while it slept."""


class Interrupt:
    """Stops one run of a module; `fire` is safe from any thread, idempotent."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        self._event = threading.Event()

    @property
    def fired(self) -> bool:
        return self._event.is_set()

    def fire(self) -> None:
        self._event.set()
        self._engine.increment_epoch()

    def sleep(self, seconds: float) -> None:
        """Sleep up to `seconds`; raise `Interrupted` if fired meanwhile."""
        if self._event.wait(min(max(seconds, 0.0), threading.TIMEOUT_MAX)):
            raise Interrupted


@dataclass(frozen=True)
class Subscription:
    """One subscription of a `poll_oneoff` call (clock fields only for clocks)."""

    userdata: int
    tag: int
    clock_id: int = 0
    timeout: int = 0
    flags: int = 0

    def deadline(self, now: dict[int, int]) -> int:
        """When this clock fires, on the monotonic clock (ns)."""
        if self.flags & _ABSTIME:
            return now[_MONOTONIC] + (self.timeout - now[self.clock_id])
        return now[_MONOTONIC] + self.timeout


def parse_subscriptions(raw: bytes | bytearray) -> list[Subscription]:
    subs = []
    for offset in range(0, len(raw), _SUBSCRIPTION):
        userdata, tag = struct.unpack_from("<QB", raw, offset)
        if tag == _CLOCK:
            clock_id, timeout = struct.unpack_from("<I4xQ", raw, offset + 16)
            (flags,) = struct.unpack_from("<H", raw, offset + 40)
            subs.append(Subscription(userdata, tag, clock_id, timeout, flags))
        else:
            subs.append(Subscription(userdata, tag))
    return subs


def event(sub: Subscription, errno: int = _SUCCESS) -> bytes:
    return struct.pack("<QHB5xQH6x", sub.userdata, errno, sub.tag, 0, 0)


def poll(subs: list[Subscription], interrupt: Interrupt) -> list[bytes]:
    """Wait as the subscriptions say; the events to report."""
    ready = [s for s in subs if s.tag in (_FD_READ, _FD_WRITE)]
    if ready:
        return [event(s) for s in ready]
    clocks = [s for s in subs if s.tag == _CLOCK]
    if any(s.clock_id not in (_REALTIME, _MONOTONIC) for s in clocks):
        return [event(s, _ENOTSUP) for s in clocks]
    now = {_REALTIME: time.time_ns(), _MONOTONIC: time.monotonic_ns()}
    deadlines = [(s.deadline(now), s) for s in clocks]
    first = min(d for d, _ in deadlines)
    interrupt.sleep((first - now[_MONOTONIC]) / 1e9)
    return [event(s) for d, s in deadlines if d <= first]


def _poll_type() -> wasmtime.FuncType:
    """A new FuncType each time: wasmtime takes ownership of the one it is given."""
    i32 = wasmtime.ValType.i32
    return wasmtime.FuncType([i32(), i32(), i32(), i32()], [i32()])


def define_poll_oneoff(linker: wasmtime.Linker, interrupt: Interrupt) -> None:
    """Replace the linker's WASI `poll_oneoff` with the interruptible one."""

    def poll_oneoff(
        caller: wasmtime.Caller, subs_at: int, events_at: int, count: int, out_at: int
    ) -> int:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            return _EFAULT
        if count <= 0:
            return _EINVAL
        size = memory.data_len(caller)
        ends = (subs_at + count * _SUBSCRIPTION, events_at + count * _EVENT, out_at + 4)
        if min(subs_at, events_at, out_at) < 0 or max(ends) > size:
            return _EFAULT
        raw = memory.read(caller, subs_at, ends[0])
        events = poll(parse_subscriptions(raw), interrupt)
        memory.write(caller, b"".join(events), events_at)
        memory.write(caller, struct.pack("<I", len(events)), out_at)
        return _SUCCESS

    linker.allow_shadowing = True
    linker.define_func(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        _poll_type(),
        poll_oneoff,
        access_caller=True,
    )
    linker.allow_shadowing = False
