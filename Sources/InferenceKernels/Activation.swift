import InferenceAVX512Kernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The activations a Darknet layer can apply after its convolution or sum.
package enum Activation: String, Sendable, CaseIterable {
    case linear, leaky, relu, logistic, mish
    /// `x · logistic(x)` (Darknet's `swish`, ONNX exports' SiLU).
    case swish

    /// Linear, leaky and relu: what the GEMM and direct kernels apply in registers before the
    /// store; the others take a pass of their own.
    package var isPiecewiseLinear: Bool { self == .linear || self == .leaky || self == .relu }

    /// Darknet's scalar definition (`activations.h`): leaky slope 0.1, mish with softplus threshold 20.
    @inline(__always)
    package func apply(_ x: Float) -> Float {
        switch self {
        case .linear: return x
        case .leaky: return x > 0 ? x : 0.1 * x
        case .relu: return x > 0 ? x : 0
        case .logistic: return 1 / (1 + expf(-x))
        case .mish:
            let softplus: Float = x > 20 ? x : (x < -20 ? expf(x) : logf(expf(x) + 1))
            return x * tanhf(softplus)
        case .swish: return Self.swish(SIMD8(repeating: x))[0]
        }
    }
}

extension Activation {
    /// `e^x` on eight lanes: Cephes' `expf` (range reduction by ln 2, degree-6 polynomial, scale
    /// by 2^n through the exponent bits), within 2 ulp of `expf` for |x| ≤ 88; clamped outside.
    /// Every multiply-add is fused (`addingProduct`), as in `Swish512.exp`, so both give the same
    /// bits: swish over 256K floats 0.040 against 0.062 ms with separate multiplies and adds
    /// (AVX-512, 1 thread, CPU time), the same worst relative error (1.5e-7) against `exp` in Double.
    @inline(__always)
    package static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.3)
        let hi = SIMD8<Float>(repeating: 88.3)
        var x = v.replacing(with: lo, where: v .< lo)
        x.replace(with: hi, where: x .> hi)
        // Adding 1.5 · 2^23 rounds to an integer held in the low mantissa bits (vector ops only;
        // SIMD float → int conversion is not vectorized).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(x, SIMD8(repeating: 1.442_695_04))
        let n = t - magic
        let r = x.addingProduct(n, SIMD8(repeating: -0.693_359_375)).addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = SIMD8(repeating: 0.166_666_655).addingProduct(p, r)
        p = SIMD8(repeating: 0.500_000_012).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r * r)
        let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// `x · logistic(x)` on eight lanes (the scalar `apply(.swish)` is lane 0 of this, so both agree exactly).
    @inline(__always)
    package static func swish(_ v: SIMD8<Float>) -> SIMD8<Float> {
        v / (1 + exp(-v))
    }
}

/// Fused per-channel bias and activation, in place.
package enum BiasActivation {
    /// `data[c, i] = activation(data[c, i] + bias[c])` for `data [channels × spatial]`.
    /// `bias` nil adds nothing.
    /// `isa` picks the swish loop (AVX-512 only where the CPU has it; both give the same values).
    package static func apply(
        _ data: UnsafeMutablePointer<Float>, channels: Int, spatial: Int,
        bias: UnsafePointer<Float>?, activation: Activation, isa: KernelISA = .current
    ) {
        let wide = isa == .avx512 && KernelISA.detected == .avx512
        for c in 0..<channels {
            let b = bias?[c] ?? 0
            let p = data + c * spatial
            switch activation {
            case .linear: addLinear(p, spatial, b)
            case .leaky: addLeaky(p, spatial, b)
            case .relu: addRelu(p, spatial, b)
            case .swish:
                let done = wide ? Swish512.apply(p, spatial, b) : 0
                addSwish(p + done, spatial - done, b)
            case .logistic, .mish:
                for i in 0..<spatial { p[i] = activation.apply(p[i] + b) }
            }
        }
    }

    /// Applies `activation` to `data[0 ..< count]` in place (no bias).
    package static func apply(
        _ data: UnsafeMutablePointer<Float>, count: Int, activation: Activation, isa: KernelISA = .current
    ) {
        apply(data, channels: 1, spatial: count, bias: nil, activation: activation, isa: isa)
    }

    @inline(__always)
    private static func addLinear(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ b: Float) {
        if b == 0 { return }
        let vb = SIMD8<Float>(repeating: b)
        var i = 0
        while i + 8 <= n {
            SIMD8Memory.store(SIMD8Memory.load(p + i) + vb, p + i)
            i += 8
        }
        while i < n {
            p[i] += b
            i += 1
        }
    }

    @inline(__always)
    private static func addLeaky(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ b: Float) {
        let vb = SIMD8<Float>(repeating: b)
        let slope = SIMD8<Float>(repeating: 0.1)
        var i = 0
        while i + 8 <= n {
            let v = SIMD8Memory.load(p + i) + vb
            // Darknet: x > 0 ? x : 0.1x, which equals max(x, 0.1x) for every finite x.
            SIMD8Memory.store(v.replacing(with: v * slope, where: v .<= 0), p + i)
            i += 8
        }
        while i < n {
            let v = p[i] + b
            p[i] = v > 0 ? v : 0.1 * v
            i += 1
        }
    }

    @inline(__always)
    private static func addSwish(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ b: Float) {
        let vb = SIMD8<Float>(repeating: b)
        var i = 0
        while i + 8 <= n {
            SIMD8Memory.store(Activation.swish(SIMD8Memory.load(p + i) + vb), p + i)
            i += 8
        }
        while i < n {
            p[i] = Activation.swish(SIMD8(repeating: p[i] + b))[0]
            i += 1
        }
    }

    @inline(__always)
    private static func addRelu(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ b: Float) {
        let vb = SIMD8<Float>(repeating: b)
        let zero = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let v = SIMD8Memory.load(p + i) + vb
            SIMD8Memory.store(v.replacing(with: zero, where: v .<= 0), p + i)
            i += 8
        }
        while i < n {
            let v = p[i] + b
            p[i] = v > 0 ? v : 0
            i += 1
        }
    }
}

/// Unaligned SIMD8 loads and stores on float pointers.
package enum SIMD8Memory {
    @inline(__always)
    package static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    package static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    package static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Stores the first `count` (≤ 8) lanes of `v` at `p`: the last, partial block of a row.
    @inline(__always)
    package static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if count == 8 {
            store(v, p)
        } else {
            for i in 0..<count { p[i] = v[i] }
        }
    }
}
