import InferenceAVX512Kernels

/// A direct GEMM for the skinny products OpenBLAS handles poorly (few output channels or a short
/// reduction, e.g. the 1×1 convolutions of Yolo-Fastest with 4–48 channels on 160×160 maps),
/// with the bias and a linear/leaky/relu activation applied in registers.
package enum SmallGemm {
    /// `C[m×n] = act(A[m×k] · B[k×n] + bias[m])`, row-major, `lda = k`, `ldb`, `ldc` given.
    /// Activations other than linear, leaky and relu are left to the caller (bias is still added).
    package static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, activation: Activation, isa: KernelISA = .current
    ) {
        let fused: Activation = activation == .leaky || activation == .relu ? activation : .linear
        let wide = isa == .avx512 && KernelISA.detected == .avx512
        // Column panels small enough that B's panel stays in L1/L2 while every row block reads it.
        let panel = 512
        var j0 = 0
        while j0 < n {
            let nn = min(panel, n - j0)
            var row = 0
            while row + 4 <= m {
                let rowBias = bias.map { $0 + row }
                let done =
                    wide
                    ? SmallGemm512.block4(
                        nn, k, a + row * k, b + j0, ldb, c + row * ldc + j0, ldc, rowBias,
                        fused == .leaky ? .leaky : fused == .relu ? .relu : .linear) : 0
                block4(
                    nn - done, k, a + row * k, b + j0 + done, ldb, c + row * ldc + j0 + done, ldc, rowBias, fused)
                row += 4
            }
            while row < m {
                block1(nn, k, a + row * k, b + j0, ldb, c + row * ldc + j0, bias?[row] ?? 0, fused)
                row += 1
            }
            j0 += nn
        }
    }

    @inline(__always)
    private static func activate(_ v: SIMD8<Float>, _ act: Activation) -> SIMD8<Float> {
        switch act {
        case .leaky: return v.replacing(with: v * SIMD8(repeating: 0.1), where: v .<= 0)
        case .relu: return v.replacing(with: SIMD8(repeating: 0), where: v .<= 0)
        default: return v
        }
    }

    @inline(__always)
    private static func activate(_ v: Float, _ act: Activation) -> Float {
        switch act {
        case .leaky: return v > 0 ? v : 0.1 * v
        case .relu: return v > 0 ? v : 0
        default: return v
        }
    }

    /// Four rows of C, 16 columns at a time (8 accumulators), then 8, then scalar.
    private static func block4(
        _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?, _ act: Activation
    ) {
        let a0 = a
        let a1 = a + k
        let a2 = a + 2 * k
        let a3 = a + 3 * k
        let b0 = SIMD8<Float>(repeating: bias?[0] ?? 0)
        let b1 = SIMD8<Float>(repeating: bias?[1] ?? 0)
        let b2 = SIMD8<Float>(repeating: bias?[2] ?? 0)
        let b3 = SIMD8<Float>(repeating: bias?[3] ?? 0)
        var j = 0
        while j + 16 <= n {
            var c00 = b0
            var c01 = b0
            var c10 = b1
            var c11 = b1
            var c20 = b2
            var c21 = b2
            var c30 = b3
            var c31 = b3
            var p = b + j
            for kk in 0..<k {
                let x0 = SIMD8Memory.load(p)
                let x1 = SIMD8Memory.load(p + 8)
                let w0 = SIMD8<Float>(repeating: a0[kk])
                let w1 = SIMD8<Float>(repeating: a1[kk])
                let w2 = SIMD8<Float>(repeating: a2[kk])
                let w3 = SIMD8<Float>(repeating: a3[kk])
                c00 = c00.addingProduct(x0, w0)
                c01 = c01.addingProduct(x1, w0)
                c10 = c10.addingProduct(x0, w1)
                c11 = c11.addingProduct(x1, w1)
                c20 = c20.addingProduct(x0, w2)
                c21 = c21.addingProduct(x1, w2)
                c30 = c30.addingProduct(x0, w3)
                c31 = c31.addingProduct(x1, w3)
                p += ldb
            }
            let o = c + j
            SIMD8Memory.store(activate(c00, act), o)
            SIMD8Memory.store(activate(c01, act), o + 8)
            SIMD8Memory.store(activate(c10, act), o + ldc)
            SIMD8Memory.store(activate(c11, act), o + ldc + 8)
            SIMD8Memory.store(activate(c20, act), o + 2 * ldc)
            SIMD8Memory.store(activate(c21, act), o + 2 * ldc + 8)
            SIMD8Memory.store(activate(c30, act), o + 3 * ldc)
            SIMD8Memory.store(activate(c31, act), o + 3 * ldc + 8)
            j += 16
        }
        while j + 8 <= n {
            var c0 = b0
            var c1 = b1
            var c2 = b2
            var c3 = b3
            var p = b + j
            for kk in 0..<k {
                let x = SIMD8Memory.load(p)
                c0 = c0.addingProduct(x, SIMD8(repeating: a0[kk]))
                c1 = c1.addingProduct(x, SIMD8(repeating: a1[kk]))
                c2 = c2.addingProduct(x, SIMD8(repeating: a2[kk]))
                c3 = c3.addingProduct(x, SIMD8(repeating: a3[kk]))
                p += ldb
            }
            let o = c + j
            SIMD8Memory.store(activate(c0, act), o)
            SIMD8Memory.store(activate(c1, act), o + ldc)
            SIMD8Memory.store(activate(c2, act), o + 2 * ldc)
            SIMD8Memory.store(activate(c3, act), o + 3 * ldc)
            j += 8
        }
        while j < n {
            var s0 = b0[0]
            var s1 = b1[0]
            var s2 = b2[0]
            var s3 = b3[0]
            var p = b + j
            for kk in 0..<k {
                let x = p.pointee
                s0 += a0[kk] * x
                s1 += a1[kk] * x
                s2 += a2[kk] * x
                s3 += a3[kk] * x
                p += ldb
            }
            c[j] = activate(s0, act)
            c[ldc + j] = activate(s1, act)
            c[2 * ldc + j] = activate(s2, act)
            c[3 * ldc + j] = activate(s3, act)
            j += 1
        }
    }

    /// One row of C.
    private static func block1(
        _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ bias: Float, _ act: Activation
    ) {
        let vb = SIMD8<Float>(repeating: bias)
        var j = 0
        while j + 16 <= n {
            var c0 = vb
            var c1 = vb
            var p = b + j
            for kk in 0..<k {
                let w = SIMD8<Float>(repeating: a[kk])
                c0 = c0.addingProduct(SIMD8Memory.load(p), w)
                c1 = c1.addingProduct(SIMD8Memory.load(p + 8), w)
                p += ldb
            }
            SIMD8Memory.store(activate(c0, act), c + j)
            SIMD8Memory.store(activate(c1, act), c + j + 8)
            j += 16
        }
        while j < n {
            var s = bias
            var p = b + j
            for kk in 0..<k {
                s += a[kk] * p.pointee
                p += ldb
            }
            c[j] = activate(s, act)
            j += 1
        }
    }
}
