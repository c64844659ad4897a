;; spin.wat: loops forever; only a timeout or a cancellation stops it.
(module
  (func (export "_start")
    (loop $forever
      (br $forever))))
