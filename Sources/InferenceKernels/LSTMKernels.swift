#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hot loops of the LSTM: one time step of one layer for a batch, forward and backward,
/// and the dense head. BLAS-shaped signatures (pointers, sizes, row-major), no allocation.
/// Gate order is Keras's: input, forget, cell candidate, output (`i, f, c, o`), each `units`
/// wide, so a gate row is `[i | f | g | o]` with `4 * units` entries.
package enum LSTMKernels {
    /// Logistic sigmoid, the Keras `recurrent_activation` default.
    @inline(__always)
    package static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// One forward step of one LSTM layer for `batch` rows.
    ///
    /// - x:       [batch, inputSize]   the step's input
    /// - hPrev:   [batch, units]       previous hidden state
    /// - cPrev:   [batch, units]       previous cell state
    /// - kernel:  [inputSize, 4*units] Keras `kernel`
    /// - recurrent: [units, 4*units]   Keras `recurrent_kernel`
    /// - bias:    [4*units]
    /// - gates:   [batch, 4*units]     out: activated gates `i, f, g, o`
    /// - c:       [batch, units]       out: new cell state
    /// - tanhC:   [batch, units]       out: tanh(c)
    /// - h:       [batch, units]       out: new hidden state
    @inline(__always)
    package static func cellForward(
        batch: Int, inputSize: Int, units: Int,
        x: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
        kernel: UnsafePointer<Float>, recurrent: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        gates: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
        tanhC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>
    ) {
        let g4 = 4 * units
        // Pre-activations z = bias + x W + hPrev R, row by row; the candidate block is doubled
        // so one sigmoid pass serves all four gates (tanh(x) = 2 sigmoid(2x) - 1).
        for b in 0..<batch {
            let z = gates + b * g4
            for j in 0..<g4 { z[j] = bias[j] }
            let xb = x + b * inputSize
            for k in 0..<inputSize {
                let xv = xb[k]
                let w = kernel + k * g4
                for j in 0..<g4 { z[j] += xv * w[j] }
            }
            let hb = hPrev + b * units
            for k in 0..<units {
                let hv = hb[k]
                let r = recurrent + k * g4
                for j in 0..<g4 { z[j] += hv * r[j] }
            }
            for j in (2 * units)..<(3 * units) { z[j] *= 2 }
        }
        sigmoidInPlace(gates, count: batch * g4)
        for b in 0..<batch {
            let z = gates + b * g4
            let cp = cPrev + b * units
            let cb = c + b * units
            let tb = tanhC + b * units
            for u in 0..<units {
                let gg = 2 * z[2 * units + u] - 1
                z[2 * units + u] = gg
                let cn = z[units + u] * cp[u] + z[u] * gg
                cb[u] = cn
                tb[u] = 2 * cn
            }
        }
        sigmoidInPlace(tanhC, count: batch * units)
        for b in 0..<batch {
            let z = gates + b * g4
            let tb = tanhC + b * units
            let ho = h + b * units
            for u in 0..<units {
                let tc = 2 * tb[u] - 1
                tb[u] = tc
                ho[u] = z[3 * units + u] * tc
            }
        }
    }

    /// `p[i] = sigmoid(p[i])` for `count` values, eight at a time.
    @inline(__always)
    package static func sigmoidInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let raw = UnsafeMutableRawPointer(p + i)
            let x = raw.loadUnaligned(as: SIMD8<Float>.self)
            raw.storeBytes(of: 1 / (1 + exp8(-x)), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            p[i] = sigmoid(p[i])
            i += 1
        }
    }

    /// e^x for eight floats: Cody-Waite range reduction and the Cephes `expf` polynomial
    /// (relative error about 1e-7 over the clamped range [-87, 88]). Rounding and 2^n use the
    /// 1.5 * 2^23 trick instead of generic SIMD conversions, which do not vectorise.
    @inline(__always)
    package static func exp8(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var x = v.replacing(with: 88, where: v .> 88)
        x = x.replacing(with: -87, where: x .< -87)
        let magic: Float = 12_582_912  // 1.5 * 2^23
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        var r = x - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var y = SIMD8<Float>(repeating: 1.987_569_15e-4)
        y = y * r + 1.398_199_95e-3
        y = y * r + 8.333_451_9e-3
        y = y * r + 4.166_579_59e-2
        y = y * r + 1.666_666_55e-1
        y = y * r + 5.000_000_12e-1
        y = y * (r * r) + r + 1
        // t's low mantissa bits hold n: its bit pattern minus magic's is n.
        let e = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127
        return y * unsafeBitCast(e &<< 23, to: SIMD8<Float>.self)
    }

    /// One backward step of one LSTM layer (backpropagation through time).
    ///
    /// - dh:      [batch, units]       in: dLoss/dh_t (from above plus from step t+1)
    /// - dcCarry: [batch, units]       in/out: dLoss/dc_t arriving from step t+1; on return dLoss/dc_{t-1}
    /// - gates, tanhC: saved by `cellForward` at step t; cPrev, hPrev, x: its inputs
    /// - dz:      [batch, 4*units]     scratch: pre-activation gate gradients
    /// - dKernel, dRecurrent, dBias: accumulated (+=)
    /// - dx:      [batch, inputSize]   out (+=) when non-nil: gradient into the step's input
    /// - dhPrev:  [batch, units]       out (=): gradient into h_{t-1}
    @inline(__always)
    package static func cellBackward(
        batch: Int, inputSize: Int, units: Int,
        dh: UnsafePointer<Float>, dcCarry: UnsafeMutablePointer<Float>,
        gates: UnsafePointer<Float>, tanhC: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
        hPrev: UnsafePointer<Float>, x: UnsafePointer<Float>,
        kernel: UnsafePointer<Float>, recurrent: UnsafePointer<Float>,
        dz: UnsafeMutablePointer<Float>,
        dKernel: UnsafeMutablePointer<Float>, dRecurrent: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dhPrev: UnsafeMutablePointer<Float>
    ) {
        let g4 = 4 * units
        for b in 0..<batch {
            let gb = gates + b * g4
            let zb = dz + b * g4
            let dhb = dh + b * units
            let dcb = dcCarry + b * units
            let tb = tanhC + b * units
            let cp = cPrev + b * units
            for u in 0..<units {
                let ig = gb[u]
                let fg = gb[units + u]
                let gg = gb[2 * units + u]
                let og = gb[3 * units + u]
                let tc = tb[u]
                let d = dhb[u]
                let dc = dcb[u] + d * og * (1 - tc * tc)
                zb[u] = dc * gg * ig * (1 - ig)
                zb[units + u] = dc * cp[u] * fg * (1 - fg)
                zb[2 * units + u] = dc * ig * (1 - gg * gg)
                zb[3 * units + u] = d * tc * og * (1 - og)
                dcb[u] = dc * fg
            }
            // Parameter gradients: dKernel += x^T dz, dRecurrent += hPrev^T dz, dBias += dz.
            let xb = x + b * inputSize
            for k in 0..<inputSize {
                let xv = xb[k]
                let dw = dKernel + k * g4
                for j in 0..<g4 { dw[j] += xv * zb[j] }
            }
            let hb = hPrev + b * units
            for k in 0..<units {
                let hv = hb[k]
                let dr = dRecurrent + k * g4
                for j in 0..<g4 { dr[j] += hv * zb[j] }
            }
            for j in 0..<g4 { dBias[j] += zb[j] }
            // Input gradients: dx += dz W^T, dhPrev = dz R^T.
            if let dx {
                let dxb = dx + b * inputSize
                for k in 0..<inputSize {
                    let w = kernel + k * g4
                    var s: Float = 0
                    for j in 0..<g4 { s += zb[j] * w[j] }
                    dxb[k] += s
                }
            }
            let dhp = dhPrev + b * units
            for k in 0..<units {
                let r = recurrent + k * g4
                var s: Float = 0
                for j in 0..<g4 { s += zb[j] * r[j] }
                dhp[k] = s
            }
        }
    }

    /// Dense head: y[b, o] = activation(bias[o] + Σ_u h[b, u] kernel[u, o]); `tanh` when
    /// `useTanh`, else linear.
    ///
    /// - h: [batch, inputSize], kernel: [inputSize, outputs], bias: [outputs], y: [batch, outputs]
    @inline(__always)
    package static func denseForward(
        batch: Int, inputSize: Int, outputs: Int, useTanh: Bool,
        h: UnsafePointer<Float>, kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<batch {
            let yb = y + b * outputs
            for o in 0..<outputs { yb[o] = bias[o] }
            let hb = h + b * inputSize
            for k in 0..<inputSize {
                let hv = hb[k]
                let w = kernel + k * outputs
                for o in 0..<outputs { yb[o] += hv * w[o] }
            }
            if useTanh { for o in 0..<outputs { yb[o] = tanhf(yb[o]) } }
        }
    }

    /// Dense head backward. `dy` holds dLoss/dy and is turned in place into dLoss/dpre-activation.
    ///
    /// - y: [batch, outputs] (the forward output), dy: [batch, outputs] in/out
    /// - dKernel: [inputSize, outputs] (+=), dBias: [outputs] (+=), dh: [batch, inputSize] (+=)
    @inline(__always)
    package static func denseBackward(
        batch: Int, inputSize: Int, outputs: Int, useTanh: Bool,
        h: UnsafePointer<Float>, kernel: UnsafePointer<Float>, y: UnsafePointer<Float>,
        dy: UnsafeMutablePointer<Float>,
        dKernel: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
        dh: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<batch {
            let yb = y + b * outputs
            let db = dy + b * outputs
            if useTanh { for o in 0..<outputs { db[o] *= 1 - yb[o] * yb[o] } }
            for o in 0..<outputs { dBias[o] += db[o] }
            let hb = h + b * inputSize
            let dhb = dh + b * inputSize
            for k in 0..<inputSize {
                let w = kernel + k * outputs
                let dw = dKernel + k * outputs
                var s: Float = 0
                for o in 0..<outputs {
                    dw[o] += hb[k] * db[o]
                    s += db[o] * w[o]
                }
                dhb[k] += s
            }
        }
    }

    /// Keras Adam (Keras 3 formulation): with `t` the 1-based step,
    /// `lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)`, `m += (g - m)(1 - beta1)`,
    /// `v += (g² - v)(1 - beta2)`, `p -= lr_t * m / (sqrt(v) + eps)`.
    @inline(__always)
    package static func adamStep(
        count: Int, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    ) {
        let a = 1 - beta1
        let b = 1 - beta2
        for j in 0..<count {
            let g = grads[j]
            m[j] += (g - m[j]) * a
            v[j] += (g * g - v[j]) * b
            params[j] -= learningRate * m[j] / (v[j].squareRoot() + epsilon)
        }
    }
}
