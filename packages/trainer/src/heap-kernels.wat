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
        ;; full 4 × 4 blocks, 16 × 16 tiles
        (local.set $i0 (i32.const 0))
        (block $ti_done
          (loop $ti
            (br_if $ti_done (i32.ge_u (local.get $i0) (local.get $m4)))
            (local.set $iEnd (select (i32.add (local.get $i0) (i32.const 16)) (local.get $m4)
              (i32.lt_u (i32.add (local.get $i0) (i32.const 16)) (local.get $m4))))
            (local.set $j0 (i32.const 0))
            (block $tj_done
              (loop $tj
                (br_if $tj_done (i32.ge_u (local.get $j0) (local.get $n4)))
                (local.set $jEnd (select (i32.add (local.get $j0) (i32.const 16)) (local.get $n4)
                  (i32.lt_u (i32.add (local.get $j0) (i32.const 16)) (local.get $n4))))
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
                (local.set $j0 (i32.add (local.get $j0) (i32.const 16)))
                (br $tj)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 16)))
            (br $ti)))
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
)
