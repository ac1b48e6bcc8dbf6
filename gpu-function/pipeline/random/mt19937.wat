;; MT19937's block step (mt19937_gen) and its tempering (mt19937_next) as WebAssembly SIMD, four state
;; words at a time: the JavaScript twist in mt19937.ts (twistAndTemper) stays the reference and the
;; fallback, and gives the same words. Integer arithmetic only, so every lane is exact.
;;
;; The twist of word i reads words i and i+1 as they were and word (i + 397) mod 624, which is an old
;; word for i < 227 and a word already twisted this block (227 places back) from then on. Four lanes at
;; once keep all three true within a group, so groups run in order: 0..223 read i + 397, 224..226 (one
;; group short) run one lane at a time, 227..622 read i − 227 (99 whole groups), and word 623, which
;; reads word 0 twisted, runs alone last.
;;
;; `polarPoints` then makes legacy_gauss's candidate points from the outputs, as many as randn is about
;; to try (see numpy-random-state.ts): two doubles of mt19937_next_double per point, mapped to [-1, 1)²,
;; with r² = x1² + x2², keeping those inside the unit circle (0 < r² < 1). Each is the same f64 operation
;; JavaScript does (a convert, then ·2^26, +, ·2^-52, −1, two products and their sum, each rounded to
;; nearest; WebAssembly has no fused multiply-add unless asked), so the points are the same bits.
;;
;; `normals` is legacy_gauss's second half for those points, given their logarithms (JavaScript's
;; Math.log, the function the pinned numpy values were matched with, stays the caller's): f = √(−2·ln r² / r²),
;; then f·x2 and f·x1 rounded to float32 — f64x2.sqrt and div are IEEE 754's correctly rounded operations,
;; as Math.sqrt and / are, and f32x4.demote_f64x2_zero rounds to nearest even, as a Float32Array store does.
;;
;; Memory: the 624 state words at byte 0 (int32, as mt19937.ts keeps them); `generate` writes the
;; block's 624 tempered outputs at byte `$out` (16-byte aligned); `polarPoints` reads outputs from
;; byte `$at` and writes x1, x2 pairs at `$points` and r² at `$radii`; `normals` reads those and the
;; logarithms at `$logs` and writes float32 pairs at `$out`.
;;
;; Built by `npm run build:kernels` (scripts/build-kernels.ts, with wabt) into mt19937.generated.ts;
;; `npm run typecheck` fails when the two disagree.
(module
  (memory (export "memory") 1)

  ;; One word: key[i] = key[src] ^ (y >>> 1) ^ (−(y & 1) & MATRIX_A), y = (key[i] & UPPER) | (key[i+1] & LOWER).
  (func $twistOne (param $i i32) (param $src i32)
    (local $p i32) (local $y i32)
    (local.set $p (i32.shl (local.get $i) (i32.const 2)))
    (local.set $y (i32.or
      (i32.and (i32.load (local.get $p)) (i32.const 0x80000000))
      (i32.and (i32.load offset=4 (local.get $p)) (i32.const 0x7fffffff))))
    (i32.store (local.get $p)
      (i32.xor
        (i32.xor (i32.load (i32.shl (local.get $src) (i32.const 2))) (i32.shr_u (local.get $y) (i32.const 1)))
        (i32.and (i32.sub (i32.const 0) (i32.and (local.get $y) (i32.const 1))) (i32.const 0x9908b0df)))))

  (func (export "generate") (param $out i32)
    (local $i i32) (local $p i32) (local $y v128) (local $t v128)
    ;; Words 0..223, four at a time, key[i + 397] at byte p + 1588.
    (loop $old
      (local.set $p (i32.shl (local.get $i) (i32.const 2)))
      (local.set $y (v128.or
        (v128.and (v128.load (local.get $p)) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
        (v128.and (v128.load offset=4 (local.get $p)) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))))
      (v128.store (local.get $p)
        (v128.xor
          (v128.xor (v128.load offset=1588 (local.get $p)) (i32x4.shr_u (local.get $y) (i32.const 1)))
          (v128.and
            (i32x4.neg (v128.and (local.get $y) (v128.const i32x4 1 1 1 1)))
            (v128.const i32x4 0x9908b0df 0x9908b0df 0x9908b0df 0x9908b0df))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $old (i32.lt_u (local.get $i) (i32.const 224))))
    ;; Words 224..226 one at a time.
    (call $twistOne (i32.const 224) (i32.const 621))
    (call $twistOne (i32.const 225) (i32.const 622))
    (call $twistOne (i32.const 226) (i32.const 623))
    ;; Words 227..622, four at a time, key[i − 227] (twisted) at byte p − 908.
    (local.set $i (i32.const 227))
    (loop $new
      (local.set $p (i32.shl (local.get $i) (i32.const 2)))
      (local.set $y (v128.or
        (v128.and (v128.load (local.get $p)) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
        (v128.and (v128.load offset=4 (local.get $p)) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))))
      (v128.store (local.get $p)
        (v128.xor
          (v128.xor (v128.load (i32.sub (local.get $p) (i32.const 908))) (i32x4.shr_u (local.get $y) (i32.const 1)))
          (v128.and
            (i32x4.neg (v128.and (local.get $y) (v128.const i32x4 1 1 1 1)))
            (v128.const i32x4 0x9908b0df 0x9908b0df 0x9908b0df 0x9908b0df))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $new (i32.lt_u (local.get $i) (i32.const 623))))
    ;; Word 623: y from key[623] and key[0] (twisted above), then key[396].
    (local.set $p (i32.or
      (i32.and (i32.load (i32.const 2492)) (i32.const 0x80000000))
      (i32.and (i32.load (i32.const 0)) (i32.const 0x7fffffff))))
    (i32.store (i32.const 2492)
      (i32.xor
        (i32.xor (i32.load (i32.const 1584)) (i32.shr_u (local.get $p) (i32.const 1)))
        (i32.and (i32.sub (i32.const 0) (i32.and (local.get $p) (i32.const 1))) (i32.const 0x9908b0df))))
    ;; Tempering of all 624 words into $out.
    (local.set $i (i32.const 0))
    (loop $temper
      (local.set $t (v128.load (local.get $i)))
      (local.set $t (v128.xor (local.get $t) (i32x4.shr_u (local.get $t) (i32.const 11))))
      (local.set $t (v128.xor (local.get $t)
        (v128.and (i32x4.shl (local.get $t) (i32.const 7)) (v128.const i32x4 0x9d2c5680 0x9d2c5680 0x9d2c5680 0x9d2c5680))))
      (local.set $t (v128.xor (local.get $t)
        (v128.and (i32x4.shl (local.get $t) (i32.const 15)) (v128.const i32x4 0xefc60000 0xefc60000 0xefc60000 0xefc60000))))
      (v128.store (i32.add (local.get $out) (local.get $i))
        (v128.xor (local.get $t) (i32x4.shr_u (local.get $t) (i32.const 18))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $temper (i32.lt_u (local.get $i) (i32.const 2496)))))
;; Points from the outputs at [$at, $end) (bytes, four words per point): x1, x2 as an f64 pair at
  ;; $points + 16·n and r² at $radii + 8·n for the n-th point kept; returns how many were kept. A point
  ;; outside the circle is written too, and then overwritten by the next (no branch on random data).
  (func (export "polarPoints") (param $at i32) (param $end i32) (param $points i32) (param $radii i32) (result i32)
    (local $kept i32) (local $words v128) (local $high v128) (local $low v128) (local $x v128) (local $squares v128)
    (local $r2 f64)
    (block $done
      (loop $point
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        ;; a1 b1 a2 b2: the doubles are (a1 >>> 5, b1 >>> 6) and (a2 >>> 5, b2 >>> 6).
        (local.set $words (v128.load align=4 (local.get $at)))
        (local.set $high (i32x4.shr_u (local.get $words) (i32.const 5)))
        (local.set $low (i32x4.shr_u (local.get $words) (i32.const 6)))
        ;; [a1 >>> 5, a2 >>> 5] and [b1 >>> 6, b2 >>> 6] as f64 pairs; x = (a·2^26 + b)·2^-52 − 1.
        (local.set $x
          (f64x2.sub
            (f64x2.mul
              (f64x2.add
                (f64x2.mul
                  (f64x2.convert_low_i32x4_u
                    (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $high) (local.get $high)))
                  (v128.const f64x2 67108864 67108864))
                (f64x2.convert_low_i32x4_u
                  (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $low) (local.get $low))))
              (v128.const f64x2 0x1p-52 0x1p-52))
            (v128.const f64x2 1 1)))
        (local.set $squares (f64x2.mul (local.get $x) (local.get $x)))
        (local.set $r2 (f64.add (f64x2.extract_lane 0 (local.get $squares)) (f64x2.extract_lane 1 (local.get $squares))))
        (v128.store (i32.add (local.get $points) (i32.shl (local.get $kept) (i32.const 4))) (local.get $x))
        (f64.store (i32.add (local.get $radii) (i32.shl (local.get $kept) (i32.const 3))) (local.get $r2))
        (local.set $kept (i32.add (local.get $kept)
          (i32.and (f64.lt (local.get $r2) (f64.const 1)) (f64.ne (local.get $r2) (f64.const 0)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $point)))
    (local.get $kept))
;; The first $count points' normals: [f·x2, f·x1] as float32 at $out + 8·p, two points a turn (an odd
  ;; count computes one more, from whatever follows, and writes it past the count's end).
  (func (export "normals") (param $count i32) (param $points i32) (param $radii i32) (param $logs i32) (param $out i32)
    (local $p i32) (local $f v128) (local $x v128)
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $p) (local.get $count)))
        (local.set $f
          (f64x2.sqrt
            (f64x2.div
              (f64x2.mul (v128.const f64x2 -2 -2) (v128.load (i32.add (local.get $logs) (i32.shl (local.get $p) (i32.const 3)))))
              (v128.load (i32.add (local.get $radii) (i32.shl (local.get $p) (i32.const 3)))))))
        ;; Point p: [x2, x1] · f(p); point p + 1: the same with f(p + 1).
        (local.set $x (v128.load (i32.add (local.get $points) (i32.shl (local.get $p) (i32.const 4)))))
        (v128.store64_lane 0 (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 3)))
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 (local.get $f) (local.get $f)))))
        (local.set $x (v128.load offset=16 (i32.add (local.get $points) (i32.shl (local.get $p) (i32.const 4)))))
        (v128.store64_lane offset=8 0 (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 3)))
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $f) (local.get $f)))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pair))))
)
