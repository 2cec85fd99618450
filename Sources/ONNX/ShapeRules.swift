/// Output shapes and parameters of the shape-changing ops, shared by folding and run time.
enum ShapeRules {
    static func reshape(_ shape: [Int], to target: [Int], allowZero: Bool, _ label: String) throws -> [Int] {
        let count = Shapes.count(shape) ?? 0
        var out = target
        var inferred: Int?
        for (i, d) in target.enumerated() {
            if d == 0 && !allowZero {
                guard i < shape.count else {
                    throw ONNXError(.invalidModel, "\(label): shape \(target) copies a missing dimension")
                }
                out[i] = shape[i]
            } else if d == -1 {
                guard inferred == nil else { throw ONNXError(.invalidModel, "\(label): shape \(target) has two -1s") }
                inferred = i
            } else if d < 0 {
                throw ONNXError(.invalidModel, "\(label): shape \(target) has a negative size")
            }
        }
        if let i = inferred {
            out[i] = 1
            let known = Shapes.count(out) ?? 0
            guard known > 0, count % known == 0 else {
                throw ONNXError(.invalidModel, "\(label): cannot reshape \(shape) to \(target)")
            }
            out[i] = count / known
        }
        guard Shapes.count(out) == count else {
            throw ONNXError(.invalidModel, "\(label): cannot reshape \(shape) to \(target)")
        }
        return out
    }

    static func unsqueeze(_ shape: [Int], axes: [Int], _ label: String) throws -> [Int] {
        let rank = shape.count + axes.count
        let normalized = try axes.map { a -> Int in
            guard let n = Shapes.axis(a, rank: rank) else {
                throw ONNXError(.invalidModel, "\(label): axis \(a) out of range")
            }
            return n
        }
        guard Set(normalized).count == normalized.count else {
            throw ONNXError(.invalidModel, "\(label): repeated axes \(axes)")
        }
        var out: [Int] = []
        var source = shape.makeIterator()
        for i in 0..<rank { out.append(normalized.contains(i) ? 1 : source.next()!) }
        return out
    }

    static func squeeze(_ shape: [Int], axes: [Int]?, _ label: String) throws -> [Int] {
        guard let axes else { return shape.filter { $0 != 1 } }
        let normalized = try axes.map { a -> Int in
            guard let n = Shapes.axis(a, rank: shape.count), shape[n] == 1 else {
                throw ONNXError(.invalidModel, "\(label): axis \(a) of \(shape) cannot be squeezed")
            }
            return n
        }
        return shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
    }

    static func flatten(_ shape: [Int], axis: Int, _ label: String) throws -> [Int] {
        guard let a = axis == shape.count ? axis : Shapes.axis(axis, rank: shape.count) else {
            throw ONNXError(.invalidModel, "\(label): axis \(axis) out of range")
        }
        return [shape[..<a].reduce(1, *), shape[a...].reduce(1, *)]
    }

    /// Per-axis start and step for every axis of `shape`, and the output shape (ONNX Slice-10+).
    static func slice(
        _ shape: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?, _ label: String
    ) throws -> (starts: [Int], steps: [Int], shape: [Int]) {
        let axes = axes ?? Array(0..<starts.count)
        let stepsIn = steps ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, stepsIn.count == starts.count else {
            throw ONNXError(.invalidModel, "\(label): starts, ends, axes and steps differ in length")
        }
        var outStarts = [Int](repeating: 0, count: shape.count)
        var outSteps = [Int](repeating: 1, count: shape.count)
        var outShape = shape
        for (j, rawAxis) in axes.enumerated() {
            guard let a = Shapes.axis(rawAxis, rank: shape.count) else {
                throw ONNXError(.invalidModel, "\(label): axis \(rawAxis) out of range for \(shape)")
            }
            let dim = shape[a]
            let step = stepsIn[j]
            guard step != 0, step != Int.min else {
                throw ONNXError(.invalidModel, "\(label): step \(step) is not supported")
            }
            func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v, lo), hi) }
            var s = starts[j] < 0 ? starts[j] + dim : starts[j]
            var e = ends[j] < 0 ? ends[j] + dim : ends[j]
            if step > 0 {
                s = clamp(s, 0, dim)
                e = clamp(e, 0, dim)
                outShape[a] = e > s ? (e - s - 1) / step + 1 : 0
            } else {
                s = clamp(s, 0, dim - 1)
                e = clamp(e, -1, dim - 1)
                outShape[a] = s > e ? (s - e - 1) / (-step) + 1 : 0
            }
            outStarts[a] = s
            outSteps[a] = step
        }
        return (outStarts, outSteps, outShape)
    }

    /// The axis of `node` normalized for `rank`.
    static func axis(_ node: Onnx_NodeProto, _ fallback: Int, rank: Int, name: String = "axis") throws -> Int {
        let raw = node.int(name, fallback)
        guard let a = Shapes.axis(raw, rank: rank) else {
            throw ONNXError(.invalidModel, "\(node.label): \(name) \(raw) out of range for rank \(rank)")
        }
        return a
    }
}
