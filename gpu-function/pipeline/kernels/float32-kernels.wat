;; The denoising loop's hot per-element arithmetic as WebAssembly SIMD (issue #12: the CPU's share of a
;; GPU picture). JavaScript has only float64 arithmetic, so the pipeline writes float32 maths as a
;; Math.fround after every operation, and V8 runs such a loop at about one element per 4 cycles;
;; WebAssembly's f32x4 operations are IEEE 754 binary32 with round-to-nearest-even and subnormals kept
;; (the spec allows no flush-to-zero), so four lanes at once give the very same bits.
;;
;; Each kernel is the fast path of a JavaScript function that stays the reference (named below), and
;; computes every element in the same order of operations. Where the fast path does not hold for a lane
;; (a float16 zero, subnormal, infinity or NaN), the kernel still writes its group of four but lists the
;; group's index at `$specials` and returns how many it listed; simd-kernels.ts recomputes those groups
;; with the reference. Counts are in elements and must be multiples of 4; addresses are byte offsets,
;; 16-byte aligned (the caller pads).
;;
;; Built by `npm run build:kernels` (scripts/build-kernels.ts, with wabt) into
;; float32-kernels.generated.ts; `npm run typecheck` fails when the two disagree.
(module
  (memory (export "memory") 1)

  ;; PNDMScheduler's PLMS step once four model outputs are known (pndm.ts, #stepPlms + #getPrevSample,
  ;; epsilon prediction):
  ;;   eps  = w · (((55·e1 − 59·e2) + 37·e3) − 9·e4)          w = float32(1/24)
  ;;   out  = sampleCoeff · x − (diff · eps) / denom
  (func (export "plms4")
    (param $e1 i32) (param $e2 i32) (param $e3 i32) (param $e4 i32) (param $x i32) (param $out i32)
    (param $count i32) (param $w f32) (param $sampleCoeff f32) (param $diff f32) (param $denom f32)
    (local $at i32) (local $end i32) (local $eps v128)
    (local $c55 v128) (local $c59 v128) (local $c37 v128) (local $c9 v128)
    (local $vw v128) (local $vcoeff v128) (local $vdiff v128) (local $vdenom v128)
    (local.set $c55 (f32x4.splat (f32.const 55)))
    (local.set $c59 (f32x4.splat (f32.const 59)))
    (local.set $c37 (f32x4.splat (f32.const 37)))
    (local.set $c9 (f32x4.splat (f32.const 9)))
    (local.set $vw (f32x4.splat (local.get $w)))
    (local.set $vcoeff (f32x4.splat (local.get $sampleCoeff)))
    (local.set $vdiff (f32x4.splat (local.get $diff)))
    (local.set $vdenom (f32x4.splat (local.get $denom)))
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $eps
          (f32x4.mul (local.get $vw)
            (f32x4.sub
              (f32x4.add
                (f32x4.sub
                  (f32x4.mul (local.get $c55) (v128.load (i32.add (local.get $e1) (local.get $at))))
                  (f32x4.mul (local.get $c59) (v128.load (i32.add (local.get $e2) (local.get $at)))))
                (f32x4.mul (local.get $c37) (v128.load (i32.add (local.get $e3) (local.get $at)))))
              (f32x4.mul (local.get $c9) (v128.load (i32.add (local.get $e4) (local.get $at)))))))
        (v128.store (i32.add (local.get $out) (local.get $at))
          (f32x4.sub
            (f32x4.mul (local.get $vcoeff) (v128.load (i32.add (local.get $x) (local.get $at))))
            (f32x4.div (f32x4.mul (local.get $vdiff) (local.get $eps)) (local.get $vdenom))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; PLMS's first four steps, before four model outputs are known (pndm.ts, #stepPlms + #getPrevSample,
  ;; epsilon prediction), with $a the newest output, $b and $c older ones:
  ;;   order 0: eps = a                                order 1: eps = (a + b) / 2
  ;;   order 2: eps = (3·a − b) / 2                    order 3: eps = ((23·a − 16·b) + 5·c) / 12
  ;;   out = sampleCoeff · x − (diff · eps) / denom
  ;; The order is tested per group of four (always the same way, so the branch predicts).
  (func (export "plmsEarly")
    (param $order i32) (param $a i32) (param $b i32) (param $c i32) (param $x i32) (param $out i32)
    (param $count i32) (param $sampleCoeff f32) (param $diff f32) (param $denom f32)
    (local $at i32) (local $end i32) (local $eps v128) (local $va v128)
    (local $vcoeff v128) (local $vdiff v128) (local $vdenom v128)
    (local.set $vcoeff (f32x4.splat (local.get $sampleCoeff)))
    (local.set $vdiff (f32x4.splat (local.get $diff)))
    (local.set $vdenom (f32x4.splat (local.get $denom)))
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $va (v128.load (i32.add (local.get $a) (local.get $at))))
        (local.set $eps (local.get $va))
        (if (i32.eq (local.get $order) (i32.const 1))
          (then
            (local.set $eps
              (f32x4.div (f32x4.add (local.get $va) (v128.load (i32.add (local.get $b) (local.get $at))))
                (v128.const f32x4 2 2 2 2)))))
        (if (i32.eq (local.get $order) (i32.const 2))
          (then
            (local.set $eps
              (f32x4.div
                (f32x4.sub (f32x4.mul (v128.const f32x4 3 3 3 3) (local.get $va)) (v128.load (i32.add (local.get $b) (local.get $at))))
                (v128.const f32x4 2 2 2 2)))))
        (if (i32.eq (local.get $order) (i32.const 3))
          (then
            (local.set $eps
              (f32x4.div
                (f32x4.add
                  (f32x4.sub
                    (f32x4.mul (v128.const f32x4 23 23 23 23) (local.get $va))
                    (f32x4.mul (v128.const f32x4 16 16 16 16) (v128.load (i32.add (local.get $b) (local.get $at)))))
                  (f32x4.mul (v128.const f32x4 5 5 5 5) (v128.load (i32.add (local.get $c) (local.get $at)))))
                (v128.const f32x4 12 12 12 12)))))
        (v128.store (i32.add (local.get $out) (local.get $at))
          (f32x4.sub
            (f32x4.mul (local.get $vcoeff) (v128.load (i32.add (local.get $x) (local.get $at))))
            (f32x4.div (f32x4.mul (local.get $vdiff) (local.get $eps)) (local.get $vdenom))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; Classifier-free guidance of a float16 UNet output (classifier-free-guidance.ts, applyGuidance):
  ;;   out = u + scale · (c − u)   with u, c the unconditional and conditional rows decoded from float16.
  ;; A normal float16 (exponent 1…30) decodes by moving its bits: sign to bit 31, exponent and mantissa
  ;; up 13 bits, the exponent rebiased by 127 − 15. Groups holding any other pattern are listed.
  (func (export "guidanceFloat16")
    (param $uncond i32) (param $cond i32) (param $out i32) (param $count i32) (param $scale f32)
    (param $specials i32) (result i32)
    (local $group i32) (local $groups i32) (local $listed i32)
    (local $hu v128) (local $hc v128) (local $eu v128) (local $ec v128) (local $u v128) (local $c v128) (local $vscale v128)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $groups (i32.shr_u (local.get $count) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $group) (local.get $groups)))
        (local.set $hu (i32x4.extend_low_i16x8_u
          (v128.load64_zero (i32.add (local.get $uncond) (i32.shl (local.get $group) (i32.const 3))))))
        (local.set $hc (i32x4.extend_low_i16x8_u
          (v128.load64_zero (i32.add (local.get $cond) (i32.shl (local.get $group) (i32.const 3))))))
        ;; Lanes whose exponent is all zeros (zero, subnormal) or all ones (infinity, NaN), in either row.
        (local.set $eu (v128.and (local.get $hu) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))
        (local.set $ec (v128.and (local.get $hc) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))
        (if (v128.any_true (v128.or
              (v128.or (i32x4.eq (local.get $eu) (v128.const i32x4 0 0 0 0)) (i32x4.eq (local.get $ec) (v128.const i32x4 0 0 0 0)))
              (v128.or
                (i32x4.eq (local.get $eu) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
                (i32x4.eq (local.get $ec) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))))
          (then
            (i32.store (i32.add (local.get $specials) (i32.shl (local.get $listed) (i32.const 2))) (local.get $group))
            (local.set $listed (i32.add (local.get $listed) (i32.const 1)))))
        ;; Written out for both rows rather than called: V8 does not inline WebAssembly calls.
        (local.set $u (v128.or
          (i32x4.shl (v128.and (local.get $hu) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))
          (i32x4.add
            (i32x4.shl (v128.and (local.get $hu) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
            (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000))))
        (local.set $c (v128.or
          (i32x4.shl (v128.and (local.get $hc) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))
          (i32x4.add
            (i32x4.shl (v128.and (local.get $hc) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
            (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $group) (i32.const 4)))
          (f32x4.add (local.get $u) (f32x4.mul (local.get $vscale) (f32x4.sub (local.get $c) (local.get $u)))))
        (local.set $group (i32.add (local.get $group) (i32.const 1)))
        (br $next)))
    (local.get $listed))

  ;; float32 → float16 bits (float16.ts, float32ToFloat16Into's branch-free path): for |x| from 2^-14 up to
  ;; 2^15, rebias the exponent and round the 13 dropped mantissa bits to nearest even by adding 0xfff plus
  ;; the kept lowest bit before shifting. Groups with any lane outside that range are listed.
  (func (export "float32ToFloat16")
    (param $values i32) (param $out i32) (param $count i32) (param $specials i32) (result i32)
    (local $group i32) (local $groups i32) (local $listed i32)
    (local $x v128) (local $magnitude v128) (local $rebiased v128) (local $half v128)
    (local.set $groups (i32.shr_u (local.get $count) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $group) (local.get $groups)))
        (local.set $x (v128.load (i32.add (local.get $values) (i32.shl (local.get $group) (i32.const 4)))))
        (local.set $magnitude (v128.and (local.get $x) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        (if (i32.eqz (i32x4.all_true (v128.and
              (i32x4.ge_u (local.get $magnitude) (v128.const i32x4 0x38800000 0x38800000 0x38800000 0x38800000))
              (i32x4.lt_u (local.get $magnitude) (v128.const i32x4 0x47000000 0x47000000 0x47000000 0x47000000)))))
          (then
            (i32.store (i32.add (local.get $specials) (i32.shl (local.get $listed) (i32.const 2))) (local.get $group))
            (local.set $listed (i32.add (local.get $listed) (i32.const 1)))))
        (local.set $rebiased (i32x4.sub (local.get $magnitude) (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000)))
        (local.set $half
          (v128.or
            (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000))
            (i32x4.shr_u
              (i32x4.add
                (i32x4.add (local.get $rebiased) (v128.const i32x4 0xfff 0xfff 0xfff 0xfff))
                (v128.and (i32x4.shr_u (local.get $rebiased) (i32.const 13)) (v128.const i32x4 1 1 1 1)))
              (i32.const 13))))
        ;; Every lane is at most 0xffff, so the saturating narrow keeps it; the low 8 bytes are the four halves.
        (v128.store64_lane 0 (i32.add (local.get $out) (i32.shl (local.get $group) (i32.const 3)))
          (i16x8.narrow_i32x4_u (local.get $half) (local.get $half)))
        (local.set $group (i32.add (local.get $group) (i32.const 1)))
        (br $next)))
    (local.get $listed))

  ;; A float16 decoder image to row-major RGB8 pixels (image/to-rgb8.ts, float16ImageToRgb8 and unitToByte
  ;; of every value), in two passes: every value of the three planes to its byte level, eight at a time,
  ;; into byte planes at $levels; then the byte planes interleaved sixteen pixels at a time. The level is
  ;; computed in float32 as the JavaScript does it with a Math.fround after each operation:
  ;;   round_half_even(clip(x / 2 + 0.5, 0, 1) · 255), NaN → 0
  ;; - Every float16 decodes exactly, so no lane is listed back: moving the 15 magnitude bits up 13 places
  ;;   and multiplying by 2^112 rebiases normals and subnormals alike (a power of two, so exact); exponent
  ;;   31 then gets the float32 exponent 255 ORed in (infinity, or NaN); the sign goes to bit 31.
  ;; - pmax(x, 0) and pmin(x, 1) keep a NaN, as the JavaScript's comparisons do.
  ;; - Adding 2^23 to a value in [0, 255] rounds it to an integer, half to even (float32 has no fraction
  ;;   bits left at 2^23), and leaves that integer in the low byte; a NaN lane (x ≠ x) is zeroed.
  ;; $pixels (one plane) must be a multiple of 16; the planes sit one after another at $planes.
  (func (export "float16ToRgb8") (param $planes i32) (param $levels i32) (param $out i32) (param $pixels i32)
    (local $from i32) (local $to i32) (local $end i32) (local $eight v128) (local $h v128) (local $x v128) (local $low v128)
    (local $r v128) (local $g v128) (local $b v128)
    (local $magnitude v128) (local $rebias v128) (local $exponent v128) (local $infinity v128) (local $sign v128)
    (local $half v128) (local $one v128) (local $c255 v128) (local $round v128)
    ;; The constants, named once (hoisting them made no measurable difference to V8; names read better).
    (local.set $magnitude (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
    (local.set $rebias (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
    (local.set $exponent (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
    (local.set $infinity (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
    (local.set $sign (v128.const i32x4 0x8000 0x8000 0x8000 0x8000))
    (local.set $half (v128.const f32x4 0.5 0.5 0.5 0.5))
    (local.set $one (v128.const f32x4 1 1 1 1))
    (local.set $c255 (v128.const f32x4 255 255 255 255))
    (local.set $round (v128.const f32x4 0x1p23 0x1p23 0x1p23 0x1p23))
    (local.set $from (local.get $planes))
    (local.set $to (local.get $levels))
    (local.set $end (i32.add (local.get $levels) (i32.mul (local.get $pixels) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $to) (local.get $end)))
        (local.set $eight (v128.load (local.get $from)))
        ;; Written out for both halves of the eight rather than called: V8 does not inline WebAssembly calls.
        (local.set $h (i32x4.extend_low_i16x8_u (local.get $eight)))
        (local.set $x
          (v128.or
            (v128.or
              (f32x4.mul (i32x4.shl (v128.and (local.get $h) (local.get $magnitude)) (i32.const 13)) (local.get $rebias))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exponent)) (local.get $exponent)) (local.get $infinity)))
            (i32x4.shl (v128.and (local.get $h) (local.get $sign)) (i32.const 16))))
        (local.set $x (f32x4.add (f32x4.mul (local.get $x) (local.get $half)) (local.get $half)))
        (local.set $x
          (f32x4.add
            (f32x4.mul (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (local.get $one)) (local.get $c255))
            (local.get $round)))
        (local.set $x (v128.and (local.get $x) (f32x4.eq (local.get $x) (local.get $x))))
        (local.set $low (local.get $x))
        (local.set $h (i32x4.extend_high_i16x8_u (local.get $eight)))
        (local.set $x
          (v128.or
            (v128.or
              (f32x4.mul (i32x4.shl (v128.and (local.get $h) (local.get $magnitude)) (i32.const 13)) (local.get $rebias))
              (v128.and (i32x4.eq (v128.and (local.get $h) (local.get $exponent)) (local.get $exponent)) (local.get $infinity)))
            (i32x4.shl (v128.and (local.get $h) (local.get $sign)) (i32.const 16))))
        (local.set $x (f32x4.add (f32x4.mul (local.get $x) (local.get $half)) (local.get $half)))
        (local.set $x
          (f32x4.add
            (f32x4.mul (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (local.get $one)) (local.get $c255))
            (local.get $round)))
        (local.set $x (v128.and (local.get $x) (f32x4.eq (local.get $x) (local.get $x))))
        ;; The low byte of each of the eight lanes.
        (v128.store64_lane 0 (local.get $to)
          (i8x16.shuffle 0 4 8 12 16 20 24 28 0 0 0 0 0 0 0 0 (local.get $low) (local.get $x)))
        (local.set $from (i32.add (local.get $from) (i32.const 16)))
        (local.set $to (i32.add (local.get $to) (i32.const 8)))
        (br $next)))
    (local.set $from (local.get $levels))
    (local.set $to (local.get $out))
    (local.set $end (i32.add (local.get $levels) (local.get $pixels)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $from) (local.get $end)))
        (local.set $r (v128.load (local.get $from)))
        (local.set $g (v128.load (i32.add (local.get $from) (local.get $pixels))))
        (local.set $b (v128.load (i32.add (local.get $from) (i32.shl (local.get $pixels) (i32.const 1)))))
        ;; R0 G0 B0 R1 G1 B1 R2 G2 B2 R3 G3 B3 R4 G4 B4 R5
        (v128.store (local.get $to)
          (i8x16.shuffle 0 1 16 3 4 17 6 7 18 9 10 19 12 13 20 15
            (i8x16.shuffle 0 16 0 1 17 0 2 18 0 3 19 0 4 20 0 5 (local.get $r) (local.get $g))
            (local.get $b)))
        ;; G5 B5 R6 G6 B6 R7 G7 B7 R8 G8 B8 R9 G9 B9 R10 G10
        (v128.store offset=16 (local.get $to)
          (i8x16.shuffle 0 21 2 3 22 5 6 23 8 9 24 11 12 25 14 15
            (i8x16.shuffle 21 0 6 22 0 7 23 0 8 24 0 9 25 0 10 26 (local.get $r) (local.get $g))
            (local.get $b)))
        ;; B10 R11 G11 B11 R12 G12 B12 R13 G13 B13 R14 G14 B14 R15 G15 B15
        (v128.store offset=32 (local.get $to)
          (i8x16.shuffle 26 1 2 27 4 5 28 7 8 29 10 11 30 13 14 31
            (i8x16.shuffle 0 11 27 0 12 28 0 13 29 0 14 30 0 15 31 0 (local.get $r) (local.get $g))
            (local.get $b)))
        (local.set $from (i32.add (local.get $from) (i32.const 16)))
        (local.set $to (i32.add (local.get $to) (i32.const 48)))
        (br $next))))

  ;; Whether any of $count float16 values at $at (a multiple of 8, 16-byte aligned) is a NaN: its
  ;; magnitude is above 0x7c00 (exponent all ones, mantissa not zero).
  (func (export "float16HasNaN") (param $at i32) (param $count i32) (result i32)
    (local $end i32) (local $found v128)
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $found
          (v128.or (local.get $found)
            (i16x8.gt_u
              (v128.and (v128.load (local.get $at)) (v128.const i16x8 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff))
              (v128.const i16x8 0x7c00 0x7c00 0x7c00 0x7c00 0x7c00 0x7c00 0x7c00 0x7c00))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))
    (v128.any_true (local.get $found))))
