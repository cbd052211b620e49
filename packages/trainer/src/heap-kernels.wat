;; SIMD kernels that run on tfjs-backend-wasm's own memory (src/heap-kernels.ts imports it).
;; Every pointer is a byte offset into that memory; every array is float32, row-major.
;; Compiled by scripts/build-heap-kernels.ts into src/heap-kernels.bytes.ts (a test checks the two agree).
(module
  (import "tfjs" "memory" (memory 1))

  ;; dst[j] = Σ_i src[i·width + j] for a [rows, width] matrix: the gradient of a bias.
  ;; Rows are read in order, four at a time, and added to dst in place. The matMul it replaces (ones · x) makes
  ;; XNNPACK pack all of x on every call.
  (func (export "colsum") (param $src i32) (param $rows i32) (param $width i32) (param $dst i32)
    (local $stride i32) (local $r i32) (local $j i32) (local $vecEnd i32) (local $p i32) (local $q i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local.set $stride (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $width) (i32.const -4)))
    ;; dst = 0
    (local.set $j (i32.const 0))
    (block $z_done
      (loop $z
        (br_if $z_done (i32.ge_u (local.get $j) (local.get $width)))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $z)))
    (local.set $r (i32.const 0))
    ;; four rows at a time: dst += (r0 + r1) + (r2 + r3)
    (block $quad_done
      (loop $quad
        (br_if $quad_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $s0 (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $s1 (i32.add (local.get $s0) (local.get $stride)))
        (local.set $s2 (i32.add (local.get $s1) (local.get $stride)))
        (local.set $s3 (i32.add (local.get $s2) (local.get $stride)))
        (local.set $j (i32.const 0))
        (block $v_done
          (loop $v
            (br_if $v_done (i32.ge_u (local.get $j) (local.get $vecEnd)))
            (local.set $p (i32.shl (local.get $j) (i32.const 2)))
            (local.set $q (i32.add (local.get $dst) (local.get $p)))
            (v128.store (local.get $q)
              (f32x4.add (v128.load (local.get $q))
                (f32x4.add
                  (f32x4.add (v128.load (i32.add (local.get $s0) (local.get $p))) (v128.load (i32.add (local.get $s1) (local.get $p))))
                  (f32x4.add (v128.load (i32.add (local.get $s2) (local.get $p))) (v128.load (i32.add (local.get $s3) (local.get $p)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v)))
        (block $t_done
          (loop $t
            (br_if $t_done (i32.ge_u (local.get $j) (local.get $width)))
            (local.set $p (i32.shl (local.get $j) (i32.const 2)))
            (local.set $q (i32.add (local.get $dst) (local.get $p)))
            (f32.store (local.get $q)
              (f32.add (f32.load (local.get $q))
                (f32.add
                  (f32.add (f32.load (i32.add (local.get $s0) (local.get $p))) (f32.load (i32.add (local.get $s1) (local.get $p))))
                  (f32.add (f32.load (i32.add (local.get $s2) (local.get $p))) (f32.load (i32.add (local.get $s3) (local.get $p)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $t)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $quad)))
    ;; the last rows % 4 rows, one at a time
    (block $one_done
      (loop $one
        (br_if $one_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $s0 (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $j (i32.const 0))
        (block $w_done
          (loop $w
            (br_if $w_done (i32.ge_u (local.get $j) (local.get $width)))
            (local.set $p (i32.shl (local.get $j) (i32.const 2)))
            (local.set $q (i32.add (local.get $dst) (local.get $p)))
            (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.load (i32.add (local.get $s0) (local.get $p)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $w)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $one))))

  ;; dst[j·m + i] = src[i·n + j] for `count` m × n matrices stored one after another: the last two axes swapped.
  ;; 4 × 4 blocks go through SIMD shuffles, in tiles of 16 × 16 so reads and writes stay in cache lines; the
  ;; edges that do not fill a block are copied one float at a time.
  (func (export "swapLast") (param $src i32) (param $dst i32) (param $m i32) (param $n i32) (param $count i32)
    (local $b i32) (local $i0 i32) (local $j0 i32) (local $i i32) (local $j i32) (local $iEnd i32) (local $jEnd i32)
    (local $m4 i32) (local $n4 i32) (local $rowB i32) (local $colB i32) (local $matB i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $s i32) (local $d i32)
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $rowB (i32.shl (local.get $n) (i32.const 2)))
    (local.set $colB (i32.shl (local.get $m) (i32.const 2)))
    (local.set $matB (i32.mul (local.get $rowB) (local.get $m)))
    (local.set $b (i32.const 0))
    (block $mat_done
      (loop $mat
        (br_if $mat_done (i32.ge_u (local.get $b) (local.get $count)))
        ;; full 4 × 4 blocks in 16 × 16 tiles, a strip of 16 columns at a time from the top row down: the strip's
        ;; 16 output rows stay in the TLB while the input rows stream past (row by row across the whole width, a
        ;; [2048, 8192] matrix touched a new output page on every tile: 3× slower).
        (local.set $j0 (i32.const 0))
        (block $tj_done
          (loop $tj
            (br_if $tj_done (i32.ge_u (local.get $j0) (local.get $n4)))
            (local.set $jEnd (select (i32.add (local.get $j0) (i32.const 16)) (local.get $n4)
              (i32.lt_u (i32.add (local.get $j0) (i32.const 16)) (local.get $n4))))
            (local.set $i0 (i32.const 0))
            (block $ti_done
              (loop $ti
                (br_if $ti_done (i32.ge_u (local.get $i0) (local.get $m4)))
                (local.set $iEnd (select (i32.add (local.get $i0) (i32.const 16)) (local.get $m4)
                  (i32.lt_u (i32.add (local.get $i0) (i32.const 16)) (local.get $m4))))
                (local.set $i (local.get $i0))
                (block $bi_done
                  (loop $bi
                    (br_if $bi_done (i32.ge_u (local.get $i) (local.get $iEnd)))
                    (local.set $j (local.get $j0))
                    (block $bj_done
                      (loop $bj
                        (br_if $bj_done (i32.ge_u (local.get $j) (local.get $jEnd)))
                        (local.set $s (i32.add (local.get $src)
                          (i32.add (i32.mul (local.get $i) (local.get $rowB)) (i32.shl (local.get $j) (i32.const 2)))))
                        (local.set $r0 (v128.load (local.get $s)))
                        (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $rowB))))
                        (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $rowB) (i32.const 1)))))
                        (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $rowB) (i32.const 3)))))
                        ;; (a0 b0 a1 b1) (a2 b2 a3 b3) (c0 d0 c1 d1) (c2 d2 c3 d3)
                        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                        (local.set $d (i32.add (local.get $dst)
                          (i32.add (i32.mul (local.get $j) (local.get $colB)) (i32.shl (local.get $i) (i32.const 2)))))
                        (v128.store (local.get $d)
                          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                        (v128.store (i32.add (local.get $d) (local.get $colB))
                          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                        (v128.store (i32.add (local.get $d) (i32.shl (local.get $colB) (i32.const 1)))
                          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                        (v128.store (i32.add (local.get $d) (i32.mul (local.get $colB) (i32.const 3)))
                          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                        (local.set $j (i32.add (local.get $j) (i32.const 4)))
                        (br $bj)))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $bi)))
                (local.set $i0 (i32.add (local.get $i0) (i32.const 16)))
                (br $ti)))
            (local.set $j0 (i32.add (local.get $j0) (i32.const 16)))
            (br $tj)))
        ;; right edge: columns n4..n of rows 0..m4; bottom edge: rows m4..m, all columns
        (local.set $i (i32.const 0))
        (block $e_done
          (loop $e
            (br_if $e_done (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $j (select (local.get $n4) (i32.const 0) (i32.lt_u (local.get $i) (local.get $m4))))
            (block $ej_done
              (loop $ej
                (br_if $ej_done (i32.ge_u (local.get $j) (local.get $n)))
                (f32.store
                  (i32.add (local.get $dst) (i32.add (i32.mul (local.get $j) (local.get $colB)) (i32.shl (local.get $i) (i32.const 2))))
                  (f32.load (i32.add (local.get $src) (i32.add (i32.mul (local.get $i) (local.get $rowB)) (i32.shl (local.get $j) (i32.const 2))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $ej)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $e)))
        (local.set $src (i32.add (local.get $src) (local.get $matB)))
        (local.set $dst (i32.add (local.get $dst) (local.get $matB)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $mat))))

  ;; Sum of a vector's four lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Layer norm over the last axis of a [rows, d] matrix, two passes for the variance (as the tf ops it replaces):
  ;; y = xhat·g + b with xhat = (x − mean)·rstd, rstd = 1/√(var + eps). Writes y, xhat and rstd [rows] (the
  ;; backward pass's inputs) in one call instead of nine tfjs kernels.
  (func (export "layerNormForward")
    (param $x i32) (param $g i32) (param $b i32) (param $y i32) (param $xhat i32) (param $rstd i32)
    (param $rows i32) (param $d i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $d4 i32) (local $row i32) (local $p i32)
    (local $acc v128) (local $v v128) (local $mv v128) (local $rv v128)
    (local $sum f32) (local $mean f32) (local $t f32) (local $rs f32)
    (local.set $d4 (i32.and (local.get $d) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $d)) (i32.const 2)))
        ;; mean
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $a_done (loop $a
          (br_if $a_done (i32.ge_u (local.get $j) (local.get $d4)))
          (local.set $acc (f32x4.add (local.get $acc)
            (v128.load (i32.add (local.get $x) (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $a)))
        (local.set $sum (call $hsum (local.get $acc)))
        (block $at_done (loop $at
          (br_if $at_done (i32.ge_u (local.get $j) (local.get $d)))
          (local.set $sum (f32.add (local.get $sum)
            (f32.load (i32.add (local.get $x) (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $at)))
        (local.set $mean (f32.div (local.get $sum) (f32.convert_i32_u (local.get $d))))
        (local.set $mv (f32x4.splat (local.get $mean)))
        ;; variance of the centred values
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $v_done (loop $vl
          (br_if $v_done (i32.ge_u (local.get $j) (local.get $d4)))
          (local.set $v (f32x4.sub
            (v128.load (i32.add (local.get $x) (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
            (local.get $mv)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $v) (local.get $v))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $vl)))
        (local.set $sum (call $hsum (local.get $acc)))
        (block $vt_done (loop $vt
          (br_if $vt_done (i32.ge_u (local.get $j) (local.get $d)))
          (local.set $t (f32.sub
            (f32.load (i32.add (local.get $x) (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
            (local.get $mean)))
          (local.set $sum (f32.add (local.get $sum) (f32.mul (local.get $t) (local.get $t))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $vt)))
        (local.set $rs (f32.div (f32.const 1)
          (f32.sqrt (f32.add (f32.div (local.get $sum) (f32.convert_i32_u (local.get $d))) (local.get $eps)))))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (local.get $rs))
        (local.set $rv (f32x4.splat (local.get $rs)))
        ;; xhat and y
        (local.set $j (i32.const 0))
        (block $w_done (loop $w
          (br_if $w_done (i32.ge_u (local.get $j) (local.get $d4)))
          (local.set $p (i32.shl (local.get $j) (i32.const 2)))
          (local.set $v (f32x4.mul (local.get $rv)
            (f32x4.sub (v128.load (i32.add (local.get $x) (i32.add (local.get $row) (local.get $p)))) (local.get $mv))))
          (v128.store (i32.add (local.get $xhat) (i32.add (local.get $row) (local.get $p))) (local.get $v))
          (v128.store (i32.add (local.get $y) (i32.add (local.get $row) (local.get $p)))
            (f32x4.add (f32x4.mul (local.get $v) (v128.load (i32.add (local.get $g) (local.get $p))))
              (v128.load (i32.add (local.get $b) (local.get $p)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $w)))
        (block $wt_done (loop $wt
          (br_if $wt_done (i32.ge_u (local.get $j) (local.get $d)))
          (local.set $p (i32.shl (local.get $j) (i32.const 2)))
          (local.set $t (f32.mul (local.get $rs)
            (f32.sub (f32.load (i32.add (local.get $x) (i32.add (local.get $row) (local.get $p)))) (local.get $mean))))
          (f32.store (i32.add (local.get $xhat) (i32.add (local.get $row) (local.get $p))) (local.get $t))
          (f32.store (i32.add (local.get $y) (i32.add (local.get $row) (local.get $p)))
            (f32.add (f32.mul (local.get $t) (f32.load (i32.add (local.get $g) (local.get $p))))
              (f32.load (i32.add (local.get $b) (local.get $p)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $wt)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row_loop))))

  ;; The layer norm's gradients from dy, xhat, rstd and g: dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat))
  ;; with dxhat = dy·g, dgamma = Σ_rows dy·xhat, dbeta = Σ_rows dy. Replaces about a dozen tfjs kernels.
  (func (export "layerNormBackward")
    (param $dy i32) (param $xhat i32) (param $rstd i32) (param $g i32)
    (param $dx i32) (param $dgamma i32) (param $dbeta i32) (param $rows i32) (param $d i32)
    (local $r i32) (local $j i32) (local $d4 i32) (local $row i32) (local $p i32) (local $q i32)
    (local $a1 v128) (local $a2 v128) (local $dyv v128) (local $hv v128) (local $dh v128) (local $m1v v128) (local $m2v v128) (local $rv v128)
    (local $s1 f32) (local $s2 f32) (local $m1 f32) (local $m2 f32) (local $rs f32) (local $dys f32) (local $hs f32) (local $dhs f32)
    (local.set $d4 (i32.and (local.get $d) (i32.const -4)))
    (local.set $j (i32.const 0))
    (block $z_done (loop $z
      (br_if $z_done (i32.ge_u (local.get $j) (local.get $d)))
      (local.set $p (i32.shl (local.get $j) (i32.const 2)))
      (f32.store (i32.add (local.get $dgamma) (local.get $p)) (f32.const 0))
      (f32.store (i32.add (local.get $dbeta) (local.get $p)) (f32.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $z)))
    (local.set $r (i32.const 0))
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $d)) (i32.const 2)))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $s_done (loop $s
          (br_if $s_done (i32.ge_u (local.get $j) (local.get $d4)))
          (local.set $p (i32.shl (local.get $j) (i32.const 2)))
          (local.set $q (i32.add (local.get $row) (local.get $p)))
          (local.set $dyv (v128.load (i32.add (local.get $dy) (local.get $q))))
          (local.set $hv (v128.load (i32.add (local.get $xhat) (local.get $q))))
          (local.set $dh (f32x4.mul (local.get $dyv) (v128.load (i32.add (local.get $g) (local.get $p)))))
          (local.set $a1 (f32x4.add (local.get $a1) (local.get $dh)))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $dh) (local.get $hv))))
          (v128.store (i32.add (local.get $dgamma) (local.get $p))
            (f32x4.add (v128.load (i32.add (local.get $dgamma) (local.get $p))) (f32x4.mul (local.get $dyv) (local.get $hv))))
          (v128.store (i32.add (local.get $dbeta) (local.get $p))
            (f32x4.add (v128.load (i32.add (local.get $dbeta) (local.get $p))) (local.get $dyv)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $s)))
        (local.set $s1 (call $hsum (local.get $a1)))
        (local.set $s2 (call $hsum (local.get $a2)))
        (block $st_done (loop $st
          (br_if $st_done (i32.ge_u (local.get $j) (local.get $d)))
          (local.set $p (i32.shl (local.get $j) (i32.const 2)))
          (local.set $q (i32.add (local.get $row) (local.get $p)))
          (local.set $dys (f32.load (i32.add (local.get $dy) (local.get $q))))
          (local.set $hs (f32.load (i32.add (local.get $xhat) (local.get $q))))
          (local.set $dhs (f32.mul (local.get $dys) (f32.load (i32.add (local.get $g) (local.get $p)))))
          (local.set $s1 (f32.add (local.get $s1) (local.get $dhs)))
          (local.set $s2 (f32.add (local.get $s2) (f32.mul (local.get $dhs) (local.get $hs))))
          (f32.store (i32.add (local.get $dgamma) (local.get $p))
            (f32.add (f32.load (i32.add (local.get $dgamma) (local.get $p))) (f32.mul (local.get $dys) (local.get $hs))))
          (f32.store (i32.add (local.get $dbeta) (local.get $p))
            (f32.add (f32.load (i32.add (local.get $dbeta) (local.get $p))) (local.get $dys)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $st)))
        (local.set $m1 (f32.div (local.get $s1) (f32.convert_i32_u (local.get $d))))
        (local.set $m2 (f32.div (local.get $s2) (f32.convert_i32_u (local.get $d))))
        (local.set $rs (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $m1v (f32x4.splat (local.get $m1)))
        (local.set $m2v (f32x4.splat (local.get $m2)))
        (local.set $rv (f32x4.splat (local.get $rs)))
        (local.set $j (i32.const 0))
        (block $x_done (loop $xl
          (br_if $x_done (i32.ge_u (local.get $j) (local.get $d4)))
          (local.set $p (i32.shl (local.get $j) (i32.const 2)))
          (local.set $q (i32.add (local.get $row) (local.get $p)))
          (v128.store (i32.add (local.get $dx) (local.get $q))
            (f32x4.mul (local.get $rv)
              (f32x4.sub
                (f32x4.sub
                  (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $q))) (v128.load (i32.add (local.get $g) (local.get $p))))
                  (local.get $m1v))
                (f32x4.mul (v128.load (i32.add (local.get $xhat) (local.get $q))) (local.get $m2v)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $xl)))
        (block $xt_done (loop $xt
          (br_if $xt_done (i32.ge_u (local.get $j) (local.get $d)))
          (local.set $p (i32.shl (local.get $j) (i32.const 2)))
          (local.set $q (i32.add (local.get $row) (local.get $p)))
          (f32.store (i32.add (local.get $dx) (local.get $q))
            (f32.mul (local.get $rs)
              (f32.sub
                (f32.sub
                  (f32.mul (f32.load (i32.add (local.get $dy) (local.get $q))) (f32.load (i32.add (local.get $g) (local.get $p))))
                  (local.get $m1))
                (f32.mul (f32.load (i32.add (local.get $xhat) (local.get $q))) (local.get $m2)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $xt)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row_loop))))

  ;; e^x for four lanes (Cephes' expf: x = n·ln2 + r, a degree-6 polynomial for e^r, 2^n through the exponent
  ;; bits), relative error about 2·10⁻⁷ over the clamped range.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87.3365 -87.3365 -87.3365 -87.3365))
      (v128.const f32x4 88.3762 88.3762 88.3762 88.3762)))
    (local.set $n (f32x4.floor (f32x4.add (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
      (v128.const f32x4 0.5 0.5 0.5 0.5))))
    (local.set $r (f32x4.sub
      (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; GELU as x·σ(x·(a + b·x²)) (the tanh form rewritten, see ops.ts) over n floats, n a multiple of 4. Writes y and
  ;; σ, which the backward pass needs.
  (func (export "geluForward") (param $x i32) (param $y i32) (param $s i32) (param $n i32) (param $a f32) (param $b f32)
    (local $i i32) (local $xv v128) (local $sv v128) (local $av v128) (local $bv v128) (local $n4 i32)
    (local.set $av (f32x4.splat (local.get $a)))
    (local.set $bv (f32x4.splat (local.get $b)))
    (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $xv (v128.load (i32.add (local.get $x) (local.get $i))))
      ;; σ(z) = 1 / (1 + e^−z)
      (local.set $sv (f32x4.div (v128.const f32x4 1 1 1 1)
        (f32x4.add (v128.const f32x4 1 1 1 1)
          (call $exp4 (f32x4.neg (f32x4.mul (local.get $xv)
            (f32x4.add (local.get $av) (f32x4.mul (local.get $bv) (f32x4.mul (local.get $xv) (local.get $xv))))))))))
      (v128.store (i32.add (local.get $s) (local.get $i)) (local.get $sv))
      (v128.store (i32.add (local.get $y) (local.get $i)) (f32x4.mul (local.get $xv) (local.get $sv)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))

  ;; dx = dy·(σ + x·σ·(1 − σ)·(a + 3b·x²)), the derivative of geluForward's y, over n floats (n a multiple of 4).
  (func (export "geluBackward") (param $dy i32) (param $x i32) (param $s i32) (param $dx i32) (param $n i32) (param $a f32) (param $b3 f32)
    (local $i i32) (local $xv v128) (local $sv v128) (local $av v128) (local $bv v128) (local $n4 i32)
    (local.set $av (f32x4.splat (local.get $a)))
    (local.set $bv (f32x4.splat (local.get $b3)))
    (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $xv (v128.load (i32.add (local.get $x) (local.get $i))))
      (local.set $sv (v128.load (i32.add (local.get $s) (local.get $i))))
      (v128.store (i32.add (local.get $dx) (local.get $i))
        (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $i)))
          (f32x4.add (local.get $sv)
            (f32x4.mul
              (f32x4.mul (f32x4.mul (local.get $xv) (local.get $sv)) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $sv)))
              (f32x4.add (local.get $av) (f32x4.mul (local.get $bv) (f32x4.mul (local.get $xv) (local.get $xv))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))

  ;; out[i] = table[ids[i]] for `count` int32 ids into a [rows, width] table: an embedding lookup, one bulk copy per
  ;; row (tfjs-wasm's GatherV2 computes every element's source index). Returns −1, or the position of the first id
  ;; outside [0, rows), in which case nothing after it is copied.
  (func (export "gatherRows") (param $table i32) (param $rows i32) (param $width i32) (param $ids i32) (param $count i32) (param $out i32) (result i32)
    (local $i i32) (local $id i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $i) (i32.const 2)))))
      (if (i32.ge_u (local.get $id) (local.get $rows)) (then (return (local.get $i))))
      (memory.copy
        (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $bytes)))
        (i32.add (local.get $table) (i32.mul (local.get $id) (local.get $bytes)))
        (local.get $bytes))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.const -1))

  ;; One AdamW update of n parameters, the same float32 operations in the same order as the tf ops it replaces
  ;; (optimizer.ts), so the results are bit-identical: with g = grad·scale (the clipping factor, 1 for none),
  ;; m' = b1·m + c·g, v' = b2·v + e·g², p' = p·decay − (lrc1·m') / (√(v' / c2) + eps), where c = 1 − b1,
  ;; e = 1 − b2 and lrc1 = lr / (1 − b1^t).
  (func (export "adamw")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $pOut i32) (param $mOut i32) (param $vOut i32) (param $n i32)
    (param $scale f32) (param $b1 f32) (param $c f32) (param $b2 f32) (param $e f32) (param $lrc1 f32) (param $c2 f32) (param $eps f32) (param $decay f32)
    (local $i i32) (local $end i32) (local $vecEnd i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $vecEnd)))
      (local.set $gv (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i))) (f32x4.splat (local.get $scale))))
      (local.set $mv (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (f32x4.splat (local.get $b1)))
        (f32x4.mul (local.get $gv) (f32x4.splat (local.get $c)))))
      (local.set $vv (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (f32x4.splat (local.get $b2)))
        (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (f32x4.splat (local.get $e)))))
      (v128.store (i32.add (local.get $mOut) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vv))
      (v128.store (i32.add (local.get $pOut) (local.get $i))
        (f32x4.sub
          (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (f32x4.splat (local.get $decay)))
          (f32x4.div
            (f32x4.mul (local.get $mv) (f32x4.splat (local.get $lrc1)))
            (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (f32x4.splat (local.get $c2)))) (f32x4.splat (local.get $eps))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))
    (block $tdone (loop $t
      (br_if $tdone (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $gs (f32.mul (f32.load (i32.add (local.get $g) (local.get $i))) (local.get $scale)))
      (local.set $ms (f32.add
        (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
        (f32.mul (local.get $gs) (local.get $c))))
      (local.set $vs (f32.add
        (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
        (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $e))))
      (f32.store (i32.add (local.get $mOut) (local.get $i)) (local.get $ms))
      (f32.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vs))
      (f32.store (i32.add (local.get $pOut) (local.get $i))
        (f32.sub
          (f32.mul (f32.load (i32.add (local.get $p) (local.get $i))) (local.get $decay))
          (f32.div
            (f32.mul (local.get $ms) (local.get $lrc1))
            (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $t))))
)
