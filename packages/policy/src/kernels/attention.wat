;; Decode-step attention and SwiGLU's gate for @tokenrl/policy's host path (host-decode.ts).
;; Compiled by scripts/build-kernels.mjs into attention-wasm.ts; a test checks
;; that the committed bytes are this file's.
;;
;; attend: for every row b and query head h (kv head j = h / g), over the S
;; cached positions of the row's keys and values:
;;   score[s] = f32(f32(q . k[s]) * scale + bias[b, s])
;;   p[s]     = f32(exp(score[s] - max) / sum)          (exp and sum in f64)
;;   out[b, h] = sum_s p[s] v[s]                        (f32, 4 lanes)
;; Pointers are byte offsets into the imported memory:
;;   qkv  [B, W] f32 (row b's query head h at b W + h D), W = (nh + 2 nkv) D
;;   k, v [B, nkv, cap, D] f32
;;   bias [B, S] f32
;;   out  [B, nh, D] f32 (overwritten)
;;   tmp  S f64 of scratch
;; D must be a multiple of 4.
(module
  (import "env" "memory" (memory 1))

  ;; exp(x) in f64 for x <= 0: x = n ln2 + r, |r| <= ln2 / 2, a degree-9
  ;; Taylor polynomial of e^r (relative error < 1e-11, far below float32's
  ;; 6e-8), times 2^n. $exp2 is the same, two lanes at a time.
  (func $exp (param $x f64) (result f64)
    (local $n f64) (local $r f64) (local $p f64)
    (if (f64.lt (local.get $x) (f64.const -708)) (then (return (f64.const 0))))
    (local.set $n (f64.nearest (f64.mul (local.get $x) (f64.const 1.4426950408889634))))
    (local.set $r
      (f64.sub
        (f64.sub (local.get $x) (f64.mul (local.get $n) (f64.const 0.6931471803691238)))
        (f64.mul (local.get $n) (f64.const 1.9082149292705877e-10))))
    (local.set $p (f64.const 2.7557319223985893e-06))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 2.48015873015873e-05)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.0001984126984126984)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.001388888888888889)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.008333333333333333)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.041666666666666664)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.16666666666666666)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.5)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 1)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 1)))
    (f64.mul
      (local.get $p)
      (f64.reinterpret_i64
        (i64.shl (i64.add (i64.trunc_f64_s (local.get $n)) (i64.const 1023)) (i64.const 52)))))

  (func $exp2 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $n (f64x2.nearest (f64x2.mul (local.get $x) (v128.const f64x2 1.4426950408889634 1.4426950408889634))))
    (local.set $r
      (f64x2.sub
        (f64x2.sub (local.get $x) (f64x2.mul (local.get $n) (v128.const f64x2 0.6931471803691238 0.6931471803691238)))
        (f64x2.mul (local.get $n) (v128.const f64x2 1.9082149292705877e-10 1.9082149292705877e-10))))
    (local.set $p (v128.const f64x2 2.7557319223985893e-06 2.7557319223985893e-06))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 2.48015873015873e-05 2.48015873015873e-05)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.0001984126984126984 0.0001984126984126984)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.001388888888888889 0.001388888888888889)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.008333333333333333 0.008333333333333333)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.041666666666666664 0.041666666666666664)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.16666666666666666 0.16666666666666666)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.5 0.5)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 1 1)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 1 1)))
    ;; 2^n from its bits; lanes below -708 are 0, as in $exp (their bits there are garbage).
    (v128.andnot
      (f64x2.mul
        (local.get $p)
        (i64x2.shl
          (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $n))) (v128.const i64x2 1023 1023))
          (i32.const 52)))
      (f64x2.lt (local.get $x) (v128.const f64x2 -708 -708))))

  (func (export "attend")
    (param $qkv i32) (param $k i32) (param $v i32) (param $bias i32) (param $out i32) (param $tmp i32)
    (param $B i32) (param $S i32) (param $nh i32) (param $nkv i32) (param $D i32) (param $cap i32)
    (param $scale f32)
    (local $b i32) (local $h i32) (local $s i32) (local $d i32)
    (local $W i32) (local $g i32) (local $qa i32) (local $kb i32) (local $ka i32) (local $oa i32) (local $ba i32)
    (local $acc v128) (local $pr v128)
    (local $score f32) (local $max f32) (local $sum f64) (local $mx v128) (local $ta i32)
    (local.set $W (i32.mul (i32.add (local.get $nh) (i32.shl (local.get $nkv) (i32.const 1))) (local.get $D)))
    (local.set $g (i32.div_u (local.get $nh) (local.get $nkv)))
    (local.set $b (i32.const 0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $ba (i32.add (local.get $bias) (i32.shl (i32.mul (local.get $b) (local.get $S)) (i32.const 2))))
        (local.set $h (i32.const 0))
        (block $heads_done
          (loop $heads
            (br_if $heads_done (i32.ge_u (local.get $h) (local.get $nh)))
            (local.set $qa
              (i32.add (local.get $qkv)
                (i32.shl (i32.add (i32.mul (local.get $b) (local.get $W)) (i32.mul (local.get $h) (local.get $D))) (i32.const 2))))
            ;; element offset of (b, j, 0, 0), j = h / g
            (local.set $kb
              (i32.shl
                (i32.mul
                  (i32.mul
                    (i32.add (i32.mul (local.get $b) (local.get $nkv)) (i32.div_u (local.get $h) (local.get $g)))
                    (local.get $cap))
                  (local.get $D))
                (i32.const 2)))
            ;; scores and their max
            (local.set $max (f32.const -inf))
            (local.set $s (i32.const 0))
            (block $sc_done
              (loop $sc
                (br_if $sc_done (i32.ge_u (local.get $s) (local.get $S)))
                (local.set $ka
                  (i32.add (i32.add (local.get $k) (local.get $kb)) (i32.shl (i32.mul (local.get $s) (local.get $D)) (i32.const 2))))
                (local.set $acc (v128.const f32x4 0 0 0 0))
                (local.set $d (i32.const 0))
                (block $dot_done
                  (loop $dot
                    (br_if $dot_done (i32.ge_u (local.get $d) (local.get $D)))
                    (local.set $acc
                      (f32x4.add (local.get $acc)
                        (f32x4.mul
                          (v128.load (i32.add (local.get $qa) (i32.shl (local.get $d) (i32.const 2))))
                          (v128.load (i32.add (local.get $ka) (i32.shl (local.get $d) (i32.const 2)))))))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $dot)))
                (local.set $score
                  (f32.add
                    (f32.mul
                      (f32.add
                        (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                        (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))
                      (local.get $scale))
                    (f32.load (i32.add (local.get $ba) (i32.shl (local.get $s) (i32.const 2))))))
                (f64.store (i32.add (local.get $tmp) (i32.shl (local.get $s) (i32.const 3))) (f64.promote_f32 (local.get $score)))
                (if (f32.gt (local.get $score) (local.get $max)) (then (local.set $max (local.get $score))))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $sc)))
            ;; exp, two lanes at a time (an odd last one alone), then the sum in order
            (local.set $mx (f64x2.splat (f64.promote_f32 (local.get $max))))
            (local.set $s (i32.const 0))
            (block $ev_done
              (loop $ev
                (br_if $ev_done (i32.gt_u (i32.add (local.get $s) (i32.const 2)) (local.get $S)))
                (local.set $ta (i32.add (local.get $tmp) (i32.shl (local.get $s) (i32.const 3))))
                (v128.store (local.get $ta) (call $exp2 (f64x2.sub (v128.load (local.get $ta)) (local.get $mx))))
                (local.set $s (i32.add (local.get $s) (i32.const 2)))
                (br $ev)))
            (if (i32.lt_u (local.get $s) (local.get $S))
              (then
                (local.set $ta (i32.add (local.get $tmp) (i32.shl (local.get $s) (i32.const 3))))
                (f64.store (local.get $ta)
                  (call $exp (f64.sub (f64.load (local.get $ta)) (f64.promote_f32 (local.get $max)))))))
            (local.set $sum (f64.const 0))
            (local.set $s (i32.const 0))
            (block $ex_done
              (loop $ex
                (br_if $ex_done (i32.ge_u (local.get $s) (local.get $S)))
                (local.set $sum
                  (f64.add (local.get $sum) (f64.load (i32.add (local.get $tmp) (i32.shl (local.get $s) (i32.const 3))))))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $ex)))
            ;; out = sum_s p[s] v[s]
            (local.set $oa
              (i32.add (local.get $out)
                (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (local.get $nh)) (local.get $h)) (local.get $D)) (i32.const 2))))
            (local.set $d (i32.const 0))
            (block $z_done
              (loop $z
                (br_if $z_done (i32.ge_u (local.get $d) (local.get $D)))
                (v128.store (i32.add (local.get $oa) (i32.shl (local.get $d) (i32.const 2))) (v128.const f32x4 0 0 0 0))
                (local.set $d (i32.add (local.get $d) (i32.const 4)))
                (br $z)))
            (local.set $s (i32.const 0))
            (block $ws_done
              (loop $ws
                (br_if $ws_done (i32.ge_u (local.get $s) (local.get $S)))
                (local.set $pr
                  (f32x4.splat
                    (f32.demote_f64
                      (f64.div (f64.load (i32.add (local.get $tmp) (i32.shl (local.get $s) (i32.const 3)))) (local.get $sum)))))
                (local.set $ka
                  (i32.add (i32.add (local.get $v) (local.get $kb)) (i32.shl (i32.mul (local.get $s) (local.get $D)) (i32.const 2))))
                (local.set $d (i32.const 0))
                (block $acc_done
                  (loop $accl
                    (br_if $acc_done (i32.ge_u (local.get $d) (local.get $D)))
                    (v128.store (i32.add (local.get $oa) (i32.shl (local.get $d) (i32.const 2)))
                      (f32x4.add
                        (v128.load (i32.add (local.get $oa) (i32.shl (local.get $d) (i32.const 2))))
                        (f32x4.mul (local.get $pr)
                          (v128.load (i32.add (local.get $ka) (i32.shl (local.get $d) (i32.const 2)))))))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $accl)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $ws)))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $heads)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows))))

  ;; silu: act[b, i] = f32(f32(g * f32(sigmoid(g))) * u) for the fused gate | up
  ;; rows gu [B, 2I] f32 (I even), sigmoid(g) = (g >= 0 ? 1 : e) / (1 + e) in
  ;; f64 with e = exp(-|g|) ($exp2), two elements at a time.
  (func (export "silu") (param $gu i32) (param $act i32) (param $B i32) (param $I i32)
    (local $b i32) (local $i i32) (local $ga i32) (local $g v128) (local $e v128) (local $sig v128)
    (local.set $b (i32.const 0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $i (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $i) (local.get $I)))
            (local.set $ga
              (i32.add (local.get $gu)
                (i32.shl (i32.add (i32.mul (local.get $b) (i32.shl (local.get $I) (i32.const 1))) (local.get $i)) (i32.const 2))))
            (local.set $g (v128.load64_zero (local.get $ga)))
            (local.set $e (call $exp2 (f64x2.neg (f64x2.abs (f64x2.promote_low_f32x4 (local.get $g))))))
            (local.set $sig
              (f32x4.demote_f64x2_zero
                (f64x2.div
                  (v128.bitselect
                    (v128.const f64x2 1 1)
                    (local.get $e)
                    (f64x2.ge (f64x2.promote_low_f32x4 (local.get $g)) (v128.const f64x2 0 0)))
                  (f64x2.add (v128.const f64x2 1 1) (local.get $e)))))
            (v128.store64_lane 0
              (i32.add (local.get $act)
                (i32.shl (i32.add (i32.mul (local.get $b) (local.get $I)) (local.get $i)) (i32.const 2)))
              (f32x4.mul
                (f32x4.mul (local.get $g) (local.get $sig))
                (v128.load64_zero (i32.add (local.get $ga) (i32.shl (local.get $I) (i32.const 2))))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $cols)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows))))
)
