;; copy.wat: copies /inputs/input.txt to stdout and to /outputs/output.txt,
;; then tries to create /inputs/probe.txt and reports on stderr whether
;; the inputs are "read-only" or "writable". Exits 2 if /inputs or
;; /outputs is not preopened, 3 if the input cannot be opened, 4 if the
;; output cannot be created.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name"
    (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close"
    (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))
  ;; 0: read iovec, 8: bytes read, 16: write iovec, 24: bytes written,
  ;; 32: opened fd, 64: prestat, 128..384: preopen name,
  ;; 400..: strings, 32768..65536: copy buffer
  (memory (export "memory") 1)
  (data (i32.const 400) "/inputs")
  (data (i32.const 408) "/outputs")
  (data (i32.const 420) "input.txt")
  (data (i32.const 432) "output.txt")
  (data (i32.const 444) "probe.txt")
  (data (i32.const 456) "read-only\n")
  (data (i32.const 468) "writable\n")

  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24))))

  (func $same (param $a i32) (param $b i32) (param $len i32) (result i32)
    (local $i i32)
    (block $differ
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const 1))))
        (br_if $differ
          (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                  (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; the fd of the preopened folder named (name, len), or -1
  (func $preopen (param $name i32) (param $len i32) (result i32)
    (local $fd i32)
    (local.set $fd (i32.const 3))
    (block $none
      (loop $next
        (br_if $none (call $fd_prestat_get (local.get $fd) (i32.const 64)))
        (if (i32.eq (i32.load (i32.const 68)) (local.get $len))
          (then
            (drop (call $fd_prestat_dir_name (local.get $fd) (i32.const 128) (local.get $len)))
            (if (call $same (i32.const 128) (local.get $name) (local.get $len))
              (then (return (local.get $fd))))))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; open (dir, path) with oflags and rights; the new fd, or -1
  (func $open (param $dir i32) (param $path i32) (param $len i32)
              (param $oflags i32) (param $rights i64) (result i32)
    (if (call $path_open (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
                         (local.get $oflags) (local.get $rights) (local.get $rights)
                         (i32.const 0) (i32.const 32))
      (then (return (i32.const -1))))
    (i32.load (i32.const 32)))

  (func (export "_start")
    (local $in_dir i32) (local $out_dir i32) (local $in i32) (local $out i32)
    (local $n i32) (local $probe i32)
    (local.set $in_dir (call $preopen (i32.const 400) (i32.const 7)))
    (local.set $out_dir (call $preopen (i32.const 408) (i32.const 8)))
    (if (i32.or (i32.lt_s (local.get $in_dir) (i32.const 0))
                (i32.lt_s (local.get $out_dir) (i32.const 0)))
      (then (call $proc_exit (i32.const 2))))
    ;; rights: fd_read = 1 << 1, fd_write = 1 << 6; oflags: creat | trunc = 9
    (local.set $in (call $open (local.get $in_dir) (i32.const 420) (i32.const 9)
                               (i32.const 0) (i64.const 2)))
    (if (i32.lt_s (local.get $in) (i32.const 0)) (then (call $proc_exit (i32.const 3))))
    (local.set $out (call $open (local.get $out_dir) (i32.const 432) (i32.const 10)
                                (i32.const 9) (i64.const 64)))
    (if (i32.lt_s (local.get $out) (i32.const 0)) (then (call $proc_exit (i32.const 4))))
    (block $eof
      (loop $next
        (i32.store (i32.const 0) (i32.const 32768))
        (i32.store (i32.const 4) (i32.const 32768))
        (br_if $eof (call $fd_read (local.get $in) (i32.const 0) (i32.const 1) (i32.const 8)))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (call $write (i32.const 1) (i32.const 32768) (local.get $n))
        (call $write (local.get $out) (i32.const 32768) (local.get $n))
        (br $next)))
    (drop (call $fd_close (local.get $in)))
    (drop (call $fd_close (local.get $out)))
    (local.set $probe (call $open (local.get $in_dir) (i32.const 444) (i32.const 9)
                                  (i32.const 9) (i64.const 64)))
    (if (i32.lt_s (local.get $probe) (i32.const 0))
      (then (call $write (i32.const 2) (i32.const 456) (i32.const 10)))
      (else (call $write (i32.const 2) (i32.const 468) (i32.const 9))))))
