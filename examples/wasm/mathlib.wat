;; mathlib.wat: a library module exporting `add`; linked as module
;; "mathlib" when given as an ImportModule whose file is mathlib.wasm.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
