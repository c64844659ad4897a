;; grow.wat: grows its memory by 64 MiB (1024 pages). Prints "grew 64 MiB"
;; on success; on failure prints "memory.grow failed" to stderr and exits
;; 12 (ENOMEM).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "grew 64 MiB\n")
  (data (i32.const 32) "memory.grow failed\n")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (if (i32.lt_s (memory.grow (i32.const 1024)) (i32.const 0))
      (then
        (call $write (i32.const 2) (i32.const 32) (i32.const 19))
        (call $proc_exit (i32.const 12))))
    (call $write (i32.const 1) (i32.const 16) (i32.const 12))))
