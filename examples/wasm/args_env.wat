;; args_env.wat: prints each argument, then each environment variable
;; (KEY=VALUE), one per line, to stdout.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; 0: iovec, 8: bytes written, 16: "\n", 32: counts,
  ;; 1024: pointer array, 4096..131072: strings
  (memory (export "memory") 2)
  (data (i32.const 16) "\n")

  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  (func $print_lines (param $count i32) (param $ptrs i32)
    (local $i i32)
    (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s
          (i32.load (i32.add (local.get $ptrs) (i32.mul (local.get $i) (i32.const 4)))))
        (call $write (local.get $s) (call $strlen (local.get $s)))
        (call $write (i32.const 16) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 32) (i32.const 36)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (call $print_lines (i32.load (i32.const 32)) (i32.const 1024))
    (drop (call $environ_sizes_get (i32.const 32) (i32.const 36)))
    (drop (call $environ_get (i32.const 1024) (i32.const 4096)))
    (call $print_lines (i32.load (i32.const 32)) (i32.const 1024))))
