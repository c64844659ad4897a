;; exit_code.wat: exits (proc_exit) with the number given as its first
;; argument, e.g. `exit_code.wasm 3` exits 3; 0 without an argument.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))
  ;; 0: counts, 1024: pointer array, 4096..: strings
  (memory (export "memory") 2)
  (func (export "_start")
    (local $p i32) (local $digit i32) (local $n i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2))
      (then (call $proc_exit (i32.const 0))))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (local.set $p (i32.load (i32.const 1028)))
    (block $done
      (loop $next
        (local.set $digit (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $done (i32.ge_u (local.get $digit) (i32.const 10)))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $digit)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (call $proc_exit (local.get $n))))
