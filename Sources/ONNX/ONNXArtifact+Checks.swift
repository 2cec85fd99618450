import Inference

/// Every step read from an artifact is checked against the graph's buffers before it can run, as
/// the importer checks a model file: each tensor a kernel reads or writes must fit its buffer and
/// every index it computes must stay inside, so even a malformed header under a matching manifest
/// is refused instead of reading or writing out of bounds.
extension ONNXArtifact.StepReader {
    /// `count` floats fit buffer `b`.
    func fits(_ b: Int, _ count: Int?, _ what: String) throws {
        guard let count, count >= 0, count <= bufferSizes[b] else { throw malformed("\(what) does not fit its buffer") }
    }

    func fits(_ b: Int, shape: [Int], _ what: String) throws { try fits(b, Shapes.count(shape), what) }

    /// Whether `start + (count - 1) · step` and `start` lie in `0..<limit` (no overflow).
    func walks(from start: Int, count: Int, step: Int, within limit: Int) -> Bool {
        guard count > 0 else { return true }
        let (span, o1) = (count - 1).multipliedReportingOverflow(by: step)
        let (last, o2) = start.addingReportingOverflow(span)
        return !o1 && !o2 && start >= 0 && start < limit && last >= 0 && last < limit
    }

    func check(_ step: Step) throws {
        switch step {
        case .pendingConv, .conv: break  // a convolution is checked as it is built
        case .unary(_, let input, let output, let count):
            try fits(input, count, "a unary step's input")
            try fits(output, count, "a unary step's output")
        case .channelAffine(let input, let output, let outer, let channels, let inner, let scale, let shift):
            let n = Shapes.count([outer, channels, inner])
            guard scale.count == channels, shift.count == channels else { throw malformed("a channel affine step") }
            try fits(input, n, "a channel affine step's input")
            try fits(output, n, "a channel affine step's output")
        case .binary(_, let a, let aShape, let b, let bShape, let output, let shape):
            guard Shapes.broadcast(aShape, bShape) == shape else { throw malformed("a binary step's shapes") }
            try fits(a, shape: aShape, "a binary step's input")
            try fits(b, shape: bShape, "a binary step's input")
            try fits(output, shape: shape, "a binary step's output")
        case .concat(let inputs, let shapes, let axis, let output):
            guard let first = shapes.first, inputs.count == shapes.count, axis >= 0, axis < first.count,
                shapes.allSatisfy({ $0.count == first.count && $0[..<axis] == first[..<axis] })
            else { throw malformed("a concat step's shapes") }
            for (b, s) in zip(inputs, shapes) { try fits(b, shape: s, "a concat step's input") }
            try fits(output, shapes.compactMap { Shapes.count($0) }.reduce(0, +), "a concat step's output")
        case .split(let input, let shape, let axis, let sizes, let outputs):
            guard axis >= 0, axis < shape.count, sizes.count == outputs.count, sizes.allSatisfy({ $0 >= 0 }),
                sizes.reduce(0, +) == shape[axis]
            else { throw malformed("a split step's sizes") }
            try fits(input, shape: shape, "a split step's input")
            for (b, n) in zip(outputs, sizes) {
                var part = shape
                part[axis] = n
                try fits(b, shape: part, "a split step's output")
            }
        case .slice(let input, let shape, let starts, let steps, let output, let outShape):
            try fits(input, shape: shape, "a slice step's input")
            try fits(output, shape: outShape, "a slice step's output")
            guard starts.count == shape.count, steps.count == shape.count, outShape.count == shape.count,
                (0..<shape.count).allSatisfy({
                    walks(from: starts[$0], count: outShape[$0], step: steps[$0], within: shape[$0])
                })
            else { throw malformed("a slice step's ranges") }
        case .transpose(let input, let shape, let perm, let output):
            guard perm.sorted() == Array(0..<shape.count) else { throw malformed("a transpose step's permutation") }
            try fits(input, shape: shape, "a transpose step's input")
            try fits(output, shape: shape, "a transpose step's output")
        case .expand(let input, let shape, let output, let outShape):
            guard shape.count <= outShape.count, Shapes.broadcast(shape, outShape) == outShape else {
                throw malformed("an expand step's shapes")
            }
            try fits(input, shape: shape, "an expand step's input")
            try fits(output, shape: outShape, "an expand step's output")
        case .softmax(let input, let outer, let axis, let inner, let output):
            try fits(input, Shapes.count([outer, axis, inner]), "a softmax step's input")
            try fits(output, Shapes.count([outer, axis, inner]), "a softmax step's output")
        case .maxPool(let p):
            try fits(p.input, Shapes.count([p.planes, p.height, p.width]), "a max pool step's input")
            try fits(p.output, Shapes.count([p.planes, p.outHeight, p.outWidth]), "a max pool step's output")
            guard Shapes.count([p.height, p.outWidth, 256]) != nil, p.kernelH > 0, p.kernelW > 0, p.kernelH <= 1 << 20,
                p.kernelW <= 1 << 20, p.padTop >= 0,
                p.padLeft >= 0, p.padTop < p.kernelH, p.padLeft < p.kernelW,
                walks(from: 0, count: p.outHeight, step: p.strideH, within: p.height + p.padTop),
                walks(from: 0, count: p.outWidth, step: p.strideW, within: p.width + p.padLeft), p.strideH > 0,
                p.strideW > 0
            else { throw malformed("a max pool step's window") }
        case .resizeNearest(let input, let planes, let height, let width, let rows, let columns, let output):
            try fits(input, Shapes.count([planes, height, width]), "a resize step's input")
            try fits(output, Shapes.count([planes, rows.count, columns.count]), "a resize step's output")
            guard rows.allSatisfy({ $0 >= 0 && $0 < height }), columns.allSatisfy({ $0 >= 0 && $0 < width }) else {
                throw malformed("a resize step's sources")
            }
        case .matmul(let a, let b, let output, let batch, let m, let n, let k, let aStride, let bStride):
            guard batch >= 1, let aLast = Shapes.count([batch - 1, aStride]),
                let bLast = Shapes.count([batch - 1, bStride])
            else { throw malformed("a matmul step's batch") }
            try fits(a, Shapes.count([m, k]).map { $0 + aLast }, "a matmul step's input")
            try fits(b, Shapes.count([k, n]).map { $0 + bLast }, "a matmul step's input")
            try fits(output, Shapes.count([batch, m, n]), "a matmul step's output")
        case .lstm(let s):
            let dirs = s.directions.count
            try fits(s.x, Shapes.count([s.seq, s.batch, s.input]), "an LSTM step's input")
            guard dirs == 1 || dirs == 2, s.layout == 0 || s.layout == 1, s.lengths.count == s.batch,
                s.lengths.allSatisfy({ $0 >= 0 && $0 <= s.seq }), Shapes.count([4, s.hidden]) != nil
            else { throw malformed("an LSTM step's sizes") }
            let state = Shapes.count([dirs, s.batch, s.hidden])
            for b in [s.initialH, s.initialC, s.yH, s.yC].compactMap({ $0 }) { try fits(b, state, "an LSTM state") }
            if let y = s.y { try fits(y, Shapes.count([s.seq, dirs, s.batch, s.hidden]), "an LSTM step's output") }
        }
    }
}
