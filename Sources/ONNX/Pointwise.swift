import Inference
import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise kernels: unary functions, broadcast binary operations, softmax.
enum Pointwise {
    @inline(__always)
    static func apply(_ op: UnaryOp, _ x: Float) -> Float {
        switch op {
        case .sigmoid: return 1 / (1 + expf(-x))
        case .silu: return x / (1 + expf(-x))
        case .relu: return x > 0 ? x : 0
        case .leakyRelu(let alpha): return x >= 0 ? x : alpha * x
        case .tanh: return tanhf(x)
        case .exp: return expf(x)
        case .softplus: return x > 20 ? x : log1pf(expf(x))
        case .neg: return -x
        case .sqrt: return sqrtf(x)
        case .abs: return Swift.abs(x)
        }
    }

    @inline(__always)
    static func apply(_ op: BinaryOp, _ x: Float, _ y: Float) -> Float {
        switch op {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        case .pow: return powf(x, y)
        case .max: return Swift.max(x, y)
        case .min: return Swift.min(x, y)
        }
    }

    static func unary(
        _ op: UnaryOp, _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        Parallel.forEach((count + 1023) / 1024, cost: 1024 * 8) { r in
            let lo = r.lowerBound * 1024
            let hi = min(count, r.upperBound * 1024)
            var i = lo
            if op == .sigmoid || op == .silu {
                // Eight lanes at a time with the kernels' vector exp.
                while i + 8 <= hi {
                    let v = SIMD8Memory.load(src + i)
                    let s = 1 / (1 + Activation.exp(-v))
                    SIMD8Memory.store(op == .silu ? v * s : s, dst + i)
                    i += 8
                }
            }
            while i < hi {
                dst[i] = apply(op, src[i])
                i += 1
            }
        }
    }

    /// `dst = op(a, b)` with NumPy broadcasting to `shape`.
    static func binary(
        _ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ aShape: [Int], _ b: UnsafeMutablePointer<Float>,
        _ bShape: [Int], _ dst: UnsafeMutablePointer<Float>, _ shape: [Int]
    ) {
        let total = Shapes.count(shape) ?? 0
        guard total > 0 else { return }
        if aShape == shape && bShape == shape {
            Parallel.forEach((total + 1023) / 1024, cost: 1024 * 4) { r in
                let lo = r.lowerBound * 1024
                let hi = min(total, r.upperBound * 1024)
                for i in lo..<hi { dst[i] = apply(op, a[i], b[i]) }
            }
            return
        }
        let rank = shape.count
        let inner = rank == 0 ? 1 : shape[rank - 1]
        let rows = total / inner
        let sa = Shapes.broadcastStrides(aShape, to: shape)
        let sb = Shapes.broadcastStrides(bShape, to: shape)
        let ia = rank == 0 ? 0 : sa[rank - 1]
        let ib = rank == 0 ? 0 : sb[rank - 1]
        Parallel.forEach(rows, cost: inner * 4) { r in
            for row in r {
                var rest = row
                var oa = 0
                var ob = 0
                var d = rank - 2
                while d >= 0 {
                    let i = rest % shape[d]
                    rest /= shape[d]
                    oa += i * sa[d]
                    ob += i * sb[d]
                    d -= 1
                }
                let out = dst + row * inner
                for j in 0..<inner { out[j] = apply(op, a[oa + j * ia], b[ob + j * ib]) }
            }
        }
    }

    /// Softmax over the middle axis of `[outer × axis × inner]`. With `inner > 1` it works on
    /// whole contiguous rows (max, exp and sum along the axis for a block of columns at a time),
    /// so every pass streams memory instead of striding through it.
    static func softmax(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int
    ) {
        let block = 256
        let blocks = (inner + block - 1) / block
        Parallel.forEach(outer * blocks, cost: axis * block * 8) { r in
            let peak = UnsafeMutablePointer<Float>.allocate(capacity: block)
            let sum = UnsafeMutablePointer<Float>.allocate(capacity: block)
            defer {
                peak.deallocate()
                sum.deallocate()
            }
            for part in r {
                let o = part / blocks
                let j0 = (part % blocks) * block
                let n = min(block, inner - j0)
                let base = o * axis * inner + j0
                for j in 0..<n { peak[j] = src[base + j] }
                for a in 1..<max(1, axis) {
                    let row = src + base + a * inner
                    for j in 0..<n { peak[j] = max(peak[j], row[j]) }
                }
                for j in 0..<n { sum[j] = 0 }
                for a in 0..<axis {
                    let row = src + base + a * inner
                    let out = dst + base + a * inner
                    var j = 0
                    while j + 8 <= n {
                        let e = Activation.exp(SIMD8Memory.load(row + j) - SIMD8Memory.load(peak + j))
                        SIMD8Memory.store(e, out + j)
                        j += 8
                    }
                    while j < n {
                        out[j] = expf(row[j] - peak[j])
                        j += 1
                    }
                    for j in 0..<n { sum[j] += out[j] }
                }
                for j in 0..<n { sum[j] = 1 / sum[j] }
                for a in 0..<axis {
                    let out = dst + base + a * inner
                    for j in 0..<n { out[j] *= sum[j] }
                }
            }
        }
    }
}
