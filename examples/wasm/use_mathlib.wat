;; use_mathlib.wat: imports `add` from module "mathlib" (see mathlib.wat)
;; and exits with add(40, 2) = 42.
(module
  (import "mathlib" "add" (func $add (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (call $add (i32.const 40) (i32.const 2)))))
