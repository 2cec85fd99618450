import Inference
import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one step on the buffer table.
enum Executor {
    static func run(
        _ step: Step, _ t: UnsafePointer<UnsafeMutablePointer<Float>>, workspace: UnsafeMutablePointer<Float>
    ) {
        switch step {
        case .pendingConv:
            break  // never left in a loaded network
        case .conv(let c):
            var io = [t[c.input], t[c.output]]
            if let r = c.residual { io.append(t[r]) }
            io.withUnsafeMutableBufferPointer { table in
                c.layer.forward(LayerIO(table: UnsafePointer(table.baseAddress!), index: 0, workspace: workspace))
            }
        case .unary(let op, let input, let output, let count):
            Pointwise.unary(op, t[input], t[output], count)
        case .channelAffine(let input, let output, let outer, let channels, let inner, let scale, let shift):
            let src = t[input]
            let dst = t[output]
            for o in 0..<outer {
                for c in 0..<channels {
                    let base = (o * channels + c) * inner
                    for i in 0..<inner { dst[base + i] = src[base + i] * scale[c] + shift[c] }
                }
            }
        case .binary(let op, let a, let aShape, let b, let bShape, let output, let shape):
            Pointwise.binary(op, t[a], aShape, t[b], bShape, t[output], shape)
        case .concat(let inputs, let shapes, let axis, let output):
            Layout.concat(inputs.map { UnsafePointer(t[$0]) }, shapes, axis: axis, t[output])
        case .split(let input, let shape, let axis, let sizes, let outputs):
            Layout.split(t[input], shape, axis: axis, sizes: sizes, outputs.map { t[$0] })
        case .slice(let input, let shape, let starts, let steps, let output, let outShape):
            Layout.slice(t[input], shape, starts: starts, steps: steps, t[output], outShape)
        case .transpose(let input, let shape, let perm, let output):
            Layout.transpose(t[input], shape, perm: perm, t[output])
        case .expand(let input, let shape, let output, let outShape):
            Layout.expand(t[input], shape, t[output], outShape)
        case .softmax(let input, let outer, let axis, let inner, let output):
            Pointwise.softmax(t[input], t[output], outer: outer, axis: axis, inner: inner)
        case .maxPool(let p):
            Pool.maxPool(p, t[p.input], t[p.output])
        case .resizeNearest(let input, let planes, let height, let width, let rows, let columns, let output):
            Layout.resizeNearest(
                t[input], planes: planes, height: height, width: width, rows: rows, columns: columns, t[output])
        case .matmul(let a, let b, let output, let batch, let m, let n, let k, let aStride, let bStride):
            for i in 0..<batch {
                Gemm.multiply(
                    m: m, n: n, k: k, a: t[a] + i * aStride, lda: k, b: t[b] + i * bStride, ldb: n,
                    c: t[output] + i * m * n, ldc: n)
            }
        case .lstm(let spec):
            spec.run(t)
        }
    }
}
