;; Batched matrix product for @tokenrl/policy's matMul on the wasm backend
;; (batched-matmul.ts). Compiled by scripts/build-kernels.mjs into
;; batched-matmul-wasm.ts; a test checks that the committed bytes are this file's.
;;
;;   c[g, m, n] = sum_k a[g, m, k] b[g, k, n]
;;
;; k ascending, each product and sum rounded to f32 (no fused multiply-add),
;; whichever path (4 x 8 block, 4 lanes, scalar) computes an element: an
;; element's value depends only on its row of a and column of b, never on the
;; shapes around it. a is read through element strides (aG, aM, aK), so a
;; transposed operand needs no copy; b is [G, K, N] and c [G, M, N], row-major.
;; Pointers are byte offsets into the imported memory.
(module
  (import "env" "memory" (memory 1))

  ;; One row of c from column n on: 4 lanes at a time, then one at a time.
  ;; pa: a[g, m, 0]; pb: b[g, 0, 0]; pc: c[g, m, 0]; sK: a's k stride in bytes.
  (func $row (param $pa i32) (param $pb i32) (param $pc i32) (param $n i32)
             (param $K i32) (param $N i32) (param $sK i32)
    (local $k i32) (local $qa i32) (local $qb i32) (local $acc v128) (local $s f32)
    (local $rowB i32)
    (local.set $rowB (i32.shl (local.get $N) (i32.const 2)))
    (block $lanesDone
      (loop $lanes
        (br_if $lanesDone (i32.gt_u (i32.add (local.get $n) (i32.const 4)) (local.get $N)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $qa (local.get $pa))
        (local.set $qb (i32.add (local.get $pb) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $k (local.get $K))
        (block $kDone
          (loop $kLoop
            (br_if $kDone (i32.eqz (local.get $k)))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (f32x4.splat (f32.load (local.get $qa))) (v128.load (local.get $qb)))))
            (local.set $qa (i32.add (local.get $qa) (local.get $sK)))
            (local.set $qb (i32.add (local.get $qb) (local.get $rowB)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $kLoop)))
        (v128.store (i32.add (local.get $pc) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc))
        (local.set $n (i32.add (local.get $n) (i32.const 4)))
        (br $lanes)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $s (f32.const 0))
        (local.set $qa (local.get $pa))
        (local.set $qb (i32.add (local.get $pb) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $k (local.get $K))
        (block $kDone
          (loop $kLoop
            (br_if $kDone (i32.eqz (local.get $k)))
            (local.set $s
              (f32.add (local.get $s) (f32.mul (f32.load (local.get $qa)) (f32.load (local.get $qb)))))
            (local.set $qa (i32.add (local.get $qa) (local.get $sK)))
            (local.set $qb (i32.add (local.get $qb) (local.get $rowB)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $kLoop)))
        (f32.store (i32.add (local.get $pc) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $cols))))

  (func (export "bmm")
    (param $G i32) (param $M i32) (param $K i32) (param $N i32)
    (param $a i32) (param $aG i32) (param $aM i32) (param $aK i32)
    (param $b i32) (param $c i32)
    (local $g i32) (local $m i32) (local $n i32) (local $k i32) (local $r i32)
    (local $ag i32) (local $bg i32) (local $cg i32)
    (local $sM i32) (local $sK i32) (local $rowB i32)
    (local $pa i32) (local $pb i32) (local $pc i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $sM (i32.shl (local.get $aM) (i32.const 2)))
    (local.set $sK (i32.shl (local.get $aK) (i32.const 2)))
    (local.set $rowB (i32.shl (local.get $N) (i32.const 2)))
    (local.set $g (i32.const 0))
    (block $gDone
      (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $g) (local.get $G)))
        (local.set $ag (i32.add (local.get $a) (i32.shl (i32.mul (local.get $g) (local.get $aG)) (i32.const 2))))
        (local.set $bg (i32.add (local.get $b)
          (i32.shl (i32.mul (local.get $g) (i32.mul (local.get $K) (local.get $N))) (i32.const 2))))
        (local.set $cg (i32.add (local.get $c)
          (i32.shl (i32.mul (local.get $g) (i32.mul (local.get $M) (local.get $N))) (i32.const 2))))
        (local.set $m (i32.const 0))
        ;; Blocks of 4 rows x 8 columns: 8 accumulators, b's two vectors read once for 4 rows.
        (block $mDone
          (loop $mLoop
            (br_if $mDone (i32.gt_u (i32.add (local.get $m) (i32.const 4)) (local.get $M)))
            (local.set $n (i32.const 0))
            (block $nDone
              (loop $nLoop
                (br_if $nDone (i32.gt_u (i32.add (local.get $n) (i32.const 8)) (local.get $N)))
                (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
                (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
                (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
                (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
                (local.set $pa (i32.add (local.get $ag) (i32.mul (local.get $m) (local.get $sM))))
                (local.set $pb (i32.add (local.get $bg) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (local.get $K))
                (block $kDone
                  (loop $kLoop
                    (br_if $kDone (i32.eqz (local.get $k)))
                    (local.set $b0 (v128.load (local.get $pb)))
                    (local.set $b1 (v128.load offset=16 (local.get $pb)))
                    (local.set $x0 (f32x4.splat (f32.load (local.get $pa))))
                    (local.set $x1 (f32x4.splat (f32.load (i32.add (local.get $pa) (local.get $sM)))))
                    (local.set $x2 (f32x4.splat (f32.load (i32.add (local.get $pa) (i32.shl (local.get $sM) (i32.const 1))))))
                    (local.set $x3 (f32x4.splat (f32.load (i32.add (local.get $pa) (i32.mul (local.get $sM) (i32.const 3))))))
                    (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x0) (local.get $b0))))
                    (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x0) (local.get $b1))))
                    (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x1) (local.get $b0))))
                    (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x1) (local.get $b1))))
                    (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x2) (local.get $b0))))
                    (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x2) (local.get $b1))))
                    (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x3) (local.get $b0))))
                    (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x3) (local.get $b1))))
                    (local.set $pa (i32.add (local.get $pa) (local.get $sK)))
                    (local.set $pb (i32.add (local.get $pb) (local.get $rowB)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br $kLoop)))
                (local.set $pc (i32.add (local.get $cg)
                  (i32.shl (i32.add (i32.mul (local.get $m) (local.get $N)) (local.get $n)) (i32.const 2))))
                (v128.store (local.get $pc) (local.get $c00))
                (v128.store offset=16 (local.get $pc) (local.get $c01))
                (local.set $pc (i32.add (local.get $pc) (local.get $rowB)))
                (v128.store (local.get $pc) (local.get $c10))
                (v128.store offset=16 (local.get $pc) (local.get $c11))
                (local.set $pc (i32.add (local.get $pc) (local.get $rowB)))
                (v128.store (local.get $pc) (local.get $c20))
                (v128.store offset=16 (local.get $pc) (local.get $c21))
                (local.set $pc (i32.add (local.get $pc) (local.get $rowB)))
                (v128.store (local.get $pc) (local.get $c30))
                (v128.store offset=16 (local.get $pc) (local.get $c31))
                (local.set $n (i32.add (local.get $n) (i32.const 8)))
                (br $nLoop)))
            ;; The block's last N mod 8 columns, row by row.
            (local.set $r (i32.const 0))
            (block $rDone
              (loop $rLoop
                (br_if $rDone (i32.ge_u (local.get $r) (i32.const 4)))
                (call $row
                  (i32.add (local.get $ag) (i32.mul (i32.add (local.get $m) (local.get $r)) (local.get $sM)))
                  (local.get $bg)
                  (i32.add (local.get $cg)
                    (i32.shl (i32.mul (i32.add (local.get $m) (local.get $r)) (local.get $N)) (i32.const 2)))
                  (local.get $n) (local.get $K) (local.get $N) (local.get $sK))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rLoop)))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))
            (br $mLoop)))
        ;; The last M mod 4 rows, whole.
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $m) (local.get $M)))
            (call $row
              (i32.add (local.get $ag) (i32.mul (local.get $m) (local.get $sM)))
              (local.get $bg)
              (i32.add (local.get $cg) (i32.shl (i32.mul (local.get $m) (local.get $N)) (i32.const 2)))
              (i32.const 0) (local.get $K) (local.get $N) (local.get $sK))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $tail)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $gLoop))))
)
