import Inference
import InferenceKernels

/// The matrix products: MatMul and Gemm, each one GEMM step (per batch) on the kernels.
extension GraphBuilder {
    /// MatMul of rank ≥ 2 operands; batch axes equal, or one side without batch.
    mutating func addMatMul(_ node: Onnx_NodeProto, _ x: ImportValue, _ y: ImportValue) throws {
        let label = node.label
        let (a, aShape) = try runtime(x, label)
        let (b, bShape) = try runtime(y, label)
        guard aShape.count >= 2, bShape.count >= 2, aShape[aShape.count - 1] == bShape[bShape.count - 2] else {
            throw ONNXError(
                .unsupported, "\(label): shapes \(aShape) × \(bShape) are not supported (rank ≥ 2, matching inner size)"
            )
        }
        let m = aShape[aShape.count - 2]
        let k = aShape[aShape.count - 1]
        let n = bShape[bShape.count - 1]
        let aBatch = Array(aShape.dropLast(2))
        let bBatch = Array(bShape.dropLast(2))
        let aCount = aBatch.reduce(1, *)
        let bCount = bBatch.reduce(1, *)
        let batch: [Int]
        if aBatch == bBatch || bCount == 1 {
            batch = aBatch.count >= bBatch.count ? aBatch : bBatch
        } else if aCount == 1 {
            batch = bBatch
        } else {
            throw ONNXError(.unsupported, "\(label): batch axes \(aBatch) and \(bBatch) are not supported")
        }
        let outShape = batch + [m, n]
        let out = try newBuffer(outShape, "\(label) output")
        values[node.output[0]] = .runtime(buffer: out, shape: outShape)
        append(
            .matmul(
                a: a, b: b, output: out, batch: max(aCount, bCount), m: m, n: n, k: k, aStride: aCount == 1 ? 0 : m * k,
                bStride: bCount == 1 ? 0 : k * n),
            writes: [out])
    }

    /// Gemm `alpha · A · op(B) + beta · C` with B (and C) constant: B is transposed and scaled at
    /// import, so it runs as one product plus a broadcast add.
    mutating func addGemm(_ node: Onnx_NodeProto, _ x: ImportValue, _ w: ConstantTensor?, _ c: ConstantTensor?) throws {
        let label = node.label
        let (a, aShape) = try runtime(x, label)
        guard node.int("transA", 0) == 0, aShape.count == 2, let w, !w.isInteger, w.shape.count == 2 else {
            throw ONNXError(
                .unsupported, "\(label): only A [m, k] without transA times a constant 2-D float B is supported")
        }
        let transB = node.int("transB", 0) != 0
        let (k, n) = transB ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
        guard aShape[1] == k else { throw ONNXError(.invalidModel, "\(label): A \(aShape) does not fit B \(w.shape)") }
        let alpha = node.float("alpha", 1)
        let beta = node.float("beta", 1)
        var b = [Float](repeating: 0, count: k * n)
        for i in 0..<k {
            for j in 0..<n { b[i * n + j] = alpha * (transB ? w.floats[j * k + i] : w.floats[i * n + j]) }
        }
        let (bBuffer, _) = try runtime(.constant(ConstantTensor(shape: [k, n], floats: b)), label)
        let m = aShape[0]
        let product = try newBuffer([m, n], "\(label) product")
        append(
            .matmul(a: a, b: bBuffer, output: product, batch: 1, m: m, n: n, k: k, aStride: 0, bStride: 0),
            writes: [product])
        guard let c, beta != 0 else {
            values[node.output[0]] = .runtime(buffer: product, shape: [m, n])
            return
        }
        guard !c.isInteger, Shapes.broadcast(c.shape, [m, n]) == [m, n] else {
            throw ONNXError(.invalidModel, "\(label): C \(c.shape) does not broadcast to [\(m), \(n)]")
        }
        let (cBuffer, cShape) = try runtime(
            .constant(ConstantTensor(shape: c.shape, floats: c.floats.map { $0 * beta })), label)
        let out = try newBuffer([m, n], "\(label) output")
        values[node.output[0]] = .runtime(buffer: out, shape: [m, n])
        append(
            .binary(.add, a: product, aShape: [m, n], b: cBuffer, bShape: cShape, output: out, shape: [m, n]),
            writes: [out])
    }
}
