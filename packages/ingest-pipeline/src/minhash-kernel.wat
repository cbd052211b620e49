;; MinHash signatures with WebAssembly SIMD: for every hash function j (multiplier a_j, odd; offset b_j),
;; out[j] = min over shingles x of (a_j · x + b_j) mod 2^32, four functions per i32x4 lane group.
;; Compiled into minhash-kernel.bytes.ts by scripts/build-minhash-kernel.ts; minhash-kernel.test.ts checks the two agree.
(module
  (memory (export "memory") 1)

  ;; $fns must be a multiple of 16 (the caller pads the parameters); each pass over the shingles serves 16 functions,
  ;; so a shingle is loaded once for 16 multiply-add-min steps.
  (func (export "signature") (param $sh i32) (param $n i32) (param $mul i32) (param $add i32) (param $fns i32) (param $out i32)
    (local $j i32) (local $p i32) (local $end i32) (local $x v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $end (i32.add (local.get $sh) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $functions
        (br_if $done (i32.ge_u (local.get $j) (local.get $fns)))
        (local.set $p (i32.add (local.get $mul) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $a0 (v128.load offset=0 (local.get $p)))
        (local.set $a1 (v128.load offset=16 (local.get $p)))
        (local.set $a2 (v128.load offset=32 (local.get $p)))
        (local.set $a3 (v128.load offset=48 (local.get $p)))
        (local.set $p (i32.add (local.get $add) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $b0 (v128.load offset=0 (local.get $p)))
        (local.set $b1 (v128.load offset=16 (local.get $p)))
        (local.set $b2 (v128.load offset=32 (local.get $p)))
        (local.set $b3 (v128.load offset=48 (local.get $p)))
        (local.set $m0 (v128.const i32x4 -1 -1 -1 -1))
        (local.set $m1 (v128.const i32x4 -1 -1 -1 -1))
        (local.set $m2 (v128.const i32x4 -1 -1 -1 -1))
        (local.set $m3 (v128.const i32x4 -1 -1 -1 -1))
        (local.set $p (local.get $sh))
        (block $shingles_done
          (loop $shingles
            (br_if $shingles_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $x (v128.load32_splat (local.get $p)))
            (local.set $m0 (i32x4.min_u (local.get $m0) (i32x4.add (i32x4.mul (local.get $a0) (local.get $x)) (local.get $b0))))
            (local.set $m1 (i32x4.min_u (local.get $m1) (i32x4.add (i32x4.mul (local.get $a1) (local.get $x)) (local.get $b1))))
            (local.set $m2 (i32x4.min_u (local.get $m2) (i32x4.add (i32x4.mul (local.get $a2) (local.get $x)) (local.get $b2))))
            (local.set $m3 (i32x4.min_u (local.get $m3) (i32x4.add (i32x4.mul (local.get $a3) (local.get $x)) (local.get $b3))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $shingles)))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store offset=0 (local.get $p) (local.get $m0))
        (v128.store offset=16 (local.get $p) (local.get $m1))
        (v128.store offset=32 (local.get $p) (local.get $m2))
        (v128.store offset=48 (local.get $p) (local.get $m3))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $functions))))
)
