;; Word count with WebAssembly SIMD, 16 bytes at a time: a word starts at a non-space byte
;; whose previous byte is a space (space, \n, \t, \r). The host copies up to 1 MiB at a time to
;; offset 0 of `mem` and calls `count(len)`; `lastSpace` carries the previous byte's state
;; between calls (1 = space; it starts at 1, so a word at the very start counts).
(module
  (memory (export "mem") 17)
  (global $lastSpace (export "lastSpace") (mut i32) (i32.const 1))
  (func $hsum (param $acc v128) (result i32)
    (local $s v128)
    (local.set $s (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $acc))))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $s)) (i32x4.extract_lane 1 (local.get $s)))
      (i32.add (i32x4.extract_lane 2 (local.get $s)) (i32x4.extract_lane 3 (local.get $s)))))
  (func (export "count") (param $len i32) (result i32)
    (local $i i32) (local $end16 i32) (local $words i32) (local $n i32) (local $c i32) (local $s i32)
    (local $v v128) (local $sp v128) (local $prev v128) (local $acc v128)
    (local.set $prev (i8x16.splat (i32.sub (i32.const 0) (global.get $lastSpace))))
    (local.set $end16 (i32.and (local.get $len) (i32.const -16)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $end16)))
        (local.set $v (v128.load (local.get $i)))
        (local.set $sp
          (v128.or
            (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 32))) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10))))
            (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 9))) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13))))))
        ;; starts = [prev[15], sp[0..14]] & ~sp ; lanes are 0xFF (-1) where a word starts
        (local.set $acc
          (i8x16.sub (local.get $acc)
            (v128.andnot
              (i8x16.shuffle 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 (local.get $prev) (local.get $sp))
              (local.get $sp))))
        (local.set $prev (local.get $sp))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (if (i32.eq (local.get $n) (i32.const 255))
          (then
            (local.set $words (i32.add (local.get $words) (call $hsum (local.get $acc))))
            (local.set $acc (v128.const i32x4 0 0 0 0))
            (local.set $n (i32.const 0))))
        (br $blocks)))
    (local.set $words (i32.add (local.get $words) (call $hsum (local.get $acc))))
    (local.set $s (i32.and (i8x16.extract_lane_u 15 (local.get $prev)) (i32.const 1)))
    (if (i32.lt_u (local.get $len) (i32.const 16)) (then (local.set $s (global.get $lastSpace))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $c
          (i32.or
            (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
            (i32.or (i32.eq (local.get $c) (i32.const 9)) (i32.eq (local.get $c) (i32.const 13)))))
        (local.set $words (i32.add (local.get $words) (i32.and (local.get $s) (i32.xor (local.get $c) (i32.const 1)))))
        (local.set $s (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (global.set $lastSpace (local.get $s))
    (local.get $words)))
