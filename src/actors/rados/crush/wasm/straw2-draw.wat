;; straw2's draw loop for CRUSH, four items at a time (README "Speed against crushtool").
;;
;; The same computation as `straw2ChooseFlat` in ../buckets.ts, which is the reference:
;; for each item i, u = crush_hash32_3(x, id_i, r) & 0xffff (rjenkins1, README I1) and
;; draw_i = trunc(ln[u] / w_i) (README I2; ln[u] = crush_ln(u) - 2^48 as an exact double, and a
;; zero weight draws -infinity); the first item with the largest draw wins. The hash is a long
;; serial chain of 32-bit subtractions, shifts and xors, so four items' hashes run side by side
;; in the four i32 lanes of one v128: one chain's time for up to four draws.
;;
;; Memory: bytes [0, 524288) hold ln as 65,536 f64 (written by the loader); the caller writes
;; a bucket's ids (i32, padded with zeros to a multiple of four) and weights (f64) above that.
;; Rebuild the module and its TypeScript wrapper with `node scripts/build-crush-wasm.mjs`.
(module
  (memory (export "memory") 9)

  ;; crush_hash32_3(x, b, r) in each lane (Ceph's crush_hash32_rjenkins1_3).
  (func $hash3x4 (param $xin i32) (param $b v128) (param $rin i32) (result v128)
    (local $a v128) (local $c v128) (local $h v128) (local $x v128) (local $y v128)
    (local.set $a (i32x4.splat (local.get $xin)))
    (local.set $c (i32x4.splat (local.get $rin)))
    (local.set $h (v128.xor (v128.xor (v128.xor (i32x4.splat (i32.const 1315423911)) (local.get $a)) (local.get $b)) (local.get $c)))
    (local.set $x (i32x4.splat (i32.const 231232)))
    (local.set $y (i32x4.splat (i32.const 1232)))
    ;; mix(a, b, h)
    (local.set $a (v128.xor (i32x4.sub (i32x4.sub (local.get $a) (local.get $b)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 13))))
    (local.set $b (v128.xor (i32x4.sub (i32x4.sub (local.get $b) (local.get $h)) (local.get $a)) (i32x4.shl (local.get $a) (i32.const 8))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $a)) (local.get $b)) (i32x4.shr_u (local.get $b) (i32.const 13))))
    (local.set $a (v128.xor (i32x4.sub (i32x4.sub (local.get $a) (local.get $b)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 12))))
    (local.set $b (v128.xor (i32x4.sub (i32x4.sub (local.get $b) (local.get $h)) (local.get $a)) (i32x4.shl (local.get $a) (i32.const 16))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $a)) (local.get $b)) (i32x4.shr_u (local.get $b) (i32.const 5))))
    (local.set $a (v128.xor (i32x4.sub (i32x4.sub (local.get $a) (local.get $b)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 3))))
    (local.set $b (v128.xor (i32x4.sub (i32x4.sub (local.get $b) (local.get $h)) (local.get $a)) (i32x4.shl (local.get $a) (i32.const 10))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $a)) (local.get $b)) (i32x4.shr_u (local.get $b) (i32.const 15))))
    ;; mix(c, x, h)
    (local.set $c (v128.xor (i32x4.sub (i32x4.sub (local.get $c) (local.get $x)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 13))))
    (local.set $x (v128.xor (i32x4.sub (i32x4.sub (local.get $x) (local.get $h)) (local.get $c)) (i32x4.shl (local.get $c) (i32.const 8))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $c)) (local.get $x)) (i32x4.shr_u (local.get $x) (i32.const 13))))
    (local.set $c (v128.xor (i32x4.sub (i32x4.sub (local.get $c) (local.get $x)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 12))))
    (local.set $x (v128.xor (i32x4.sub (i32x4.sub (local.get $x) (local.get $h)) (local.get $c)) (i32x4.shl (local.get $c) (i32.const 16))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $c)) (local.get $x)) (i32x4.shr_u (local.get $x) (i32.const 5))))
    (local.set $c (v128.xor (i32x4.sub (i32x4.sub (local.get $c) (local.get $x)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 3))))
    (local.set $x (v128.xor (i32x4.sub (i32x4.sub (local.get $x) (local.get $h)) (local.get $c)) (i32x4.shl (local.get $c) (i32.const 10))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $c)) (local.get $x)) (i32x4.shr_u (local.get $x) (i32.const 15))))
    ;; mix(y, a, h)
    (local.set $y (v128.xor (i32x4.sub (i32x4.sub (local.get $y) (local.get $a)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 13))))
    (local.set $a (v128.xor (i32x4.sub (i32x4.sub (local.get $a) (local.get $h)) (local.get $y)) (i32x4.shl (local.get $y) (i32.const 8))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $y)) (local.get $a)) (i32x4.shr_u (local.get $a) (i32.const 13))))
    (local.set $y (v128.xor (i32x4.sub (i32x4.sub (local.get $y) (local.get $a)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 12))))
    (local.set $a (v128.xor (i32x4.sub (i32x4.sub (local.get $a) (local.get $h)) (local.get $y)) (i32x4.shl (local.get $y) (i32.const 16))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $y)) (local.get $a)) (i32x4.shr_u (local.get $a) (i32.const 5))))
    (local.set $y (v128.xor (i32x4.sub (i32x4.sub (local.get $y) (local.get $a)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 3))))
    (local.set $a (v128.xor (i32x4.sub (i32x4.sub (local.get $a) (local.get $h)) (local.get $y)) (i32x4.shl (local.get $y) (i32.const 10))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $y)) (local.get $a)) (i32x4.shr_u (local.get $a) (i32.const 15))))
    ;; mix(b, x, h)
    (local.set $b (v128.xor (i32x4.sub (i32x4.sub (local.get $b) (local.get $x)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 13))))
    (local.set $x (v128.xor (i32x4.sub (i32x4.sub (local.get $x) (local.get $h)) (local.get $b)) (i32x4.shl (local.get $b) (i32.const 8))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $b)) (local.get $x)) (i32x4.shr_u (local.get $x) (i32.const 13))))
    (local.set $b (v128.xor (i32x4.sub (i32x4.sub (local.get $b) (local.get $x)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 12))))
    (local.set $x (v128.xor (i32x4.sub (i32x4.sub (local.get $x) (local.get $h)) (local.get $b)) (i32x4.shl (local.get $b) (i32.const 16))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $b)) (local.get $x)) (i32x4.shr_u (local.get $x) (i32.const 5))))
    (local.set $b (v128.xor (i32x4.sub (i32x4.sub (local.get $b) (local.get $x)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 3))))
    (local.set $x (v128.xor (i32x4.sub (i32x4.sub (local.get $x) (local.get $h)) (local.get $b)) (i32x4.shl (local.get $b) (i32.const 10))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $b)) (local.get $x)) (i32x4.shr_u (local.get $x) (i32.const 15))))
    ;; mix(y, c, h)
    (local.set $y (v128.xor (i32x4.sub (i32x4.sub (local.get $y) (local.get $c)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 13))))
    (local.set $c (v128.xor (i32x4.sub (i32x4.sub (local.get $c) (local.get $h)) (local.get $y)) (i32x4.shl (local.get $y) (i32.const 8))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $y)) (local.get $c)) (i32x4.shr_u (local.get $c) (i32.const 13))))
    (local.set $y (v128.xor (i32x4.sub (i32x4.sub (local.get $y) (local.get $c)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 12))))
    (local.set $c (v128.xor (i32x4.sub (i32x4.sub (local.get $c) (local.get $h)) (local.get $y)) (i32x4.shl (local.get $y) (i32.const 16))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $y)) (local.get $c)) (i32x4.shr_u (local.get $c) (i32.const 5))))
    (local.set $y (v128.xor (i32x4.sub (i32x4.sub (local.get $y) (local.get $c)) (local.get $h)) (i32x4.shr_u (local.get $h) (i32.const 3))))
    (local.set $c (v128.xor (i32x4.sub (i32x4.sub (local.get $c) (local.get $h)) (local.get $y)) (i32x4.shl (local.get $y) (i32.const 10))))
    (local.set $h (v128.xor (i32x4.sub (i32x4.sub (local.get $h) (local.get $y)) (local.get $c)) (i32x4.shr_u (local.get $c) (i32.const 15))))
    (local.get $h))

  ;; The index of the winning item among n >= 1 items: ids at $items, weights at $weights.
  (func (export "straw2") (param $items i32) (param $weights i32) (param $n i32) (param $x i32) (param $r i32) (result i32)
    (local $i i32) (local $k i32) (local $best i32) (local $hv v128) (local $w f64) (local $draw f64) (local $high f64)
    (local.set $high (f64.const -inf))
    (loop $group
      (local.set $hv (call $hash3x4 (local.get $x) (v128.load (i32.add (local.get $items) (i32.shl (local.get $i) (i32.const 2)))) (local.get $r)))
      ;; lane 0: item i + 0
      (local.set $k (i32.add (local.get $i) (i32.const 0)))
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (local.set $w (f64.load (i32.add (local.get $weights) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $draw (f64.const -inf))
          (if (f64.ne (local.get $w) (f64.const 0))
            (then
              (local.set $draw
                (f64.trunc (f64.div
                  (f64.load (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $hv)) (i32.const 0xffff)) (i32.const 3)))
                  (local.get $w))))))
          (if (i32.or (i32.eqz (local.get $k)) (f64.gt (local.get $draw) (local.get $high)))
            (then
              (local.set $best (local.get $k))
              (local.set $high (local.get $draw))))))
      ;; lane 1: item i + 1
      (local.set $k (i32.add (local.get $i) (i32.const 1)))
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (local.set $w (f64.load (i32.add (local.get $weights) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $draw (f64.const -inf))
          (if (f64.ne (local.get $w) (f64.const 0))
            (then
              (local.set $draw
                (f64.trunc (f64.div
                  (f64.load (i32.shl (i32.and (i32x4.extract_lane 1 (local.get $hv)) (i32.const 0xffff)) (i32.const 3)))
                  (local.get $w))))))
          (if (i32.or (i32.eqz (local.get $k)) (f64.gt (local.get $draw) (local.get $high)))
            (then
              (local.set $best (local.get $k))
              (local.set $high (local.get $draw))))))
      ;; lane 2: item i + 2
      (local.set $k (i32.add (local.get $i) (i32.const 2)))
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (local.set $w (f64.load (i32.add (local.get $weights) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $draw (f64.const -inf))
          (if (f64.ne (local.get $w) (f64.const 0))
            (then
              (local.set $draw
                (f64.trunc (f64.div
                  (f64.load (i32.shl (i32.and (i32x4.extract_lane 2 (local.get $hv)) (i32.const 0xffff)) (i32.const 3)))
                  (local.get $w))))))
          (if (i32.or (i32.eqz (local.get $k)) (f64.gt (local.get $draw) (local.get $high)))
            (then
              (local.set $best (local.get $k))
              (local.set $high (local.get $draw))))))
      ;; lane 3: item i + 3
      (local.set $k (i32.add (local.get $i) (i32.const 3)))
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (local.set $w (f64.load (i32.add (local.get $weights) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $draw (f64.const -inf))
          (if (f64.ne (local.get $w) (f64.const 0))
            (then
              (local.set $draw
                (f64.trunc (f64.div
                  (f64.load (i32.shl (i32.and (i32x4.extract_lane 3 (local.get $hv)) (i32.const 0xffff)) (i32.const 3)))
                  (local.get $w))))))
          (if (i32.or (i32.eqz (local.get $k)) (f64.gt (local.get $draw) (local.get $high)))
            (then
              (local.set $best (local.get $k))
              (local.set $high (local.get $draw))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $group (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $best))
)
