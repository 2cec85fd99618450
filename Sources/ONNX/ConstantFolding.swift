#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Evaluates, at import, nodes whose inputs are all known: constants and shape arithmetic.
enum ConstantFolding {
    /// The node's outputs when it can be folded, else nil (it then runs as a step). `Shape` folds
    /// whenever its input's shape is known, which is always.
    static func fold(_ node: Onnx_NodeProto, _ inputs: [ImportValue?], allConstant: Bool, opset: Int) throws
        -> [ConstantTensor]?
    {
        let label = node.label
        func constant(_ i: Int) throws -> ConstantTensor? {
            guard i < inputs.count, case .constant(let c)? = inputs[i] else { return nil }
            return c
        }
        func required(_ i: Int) throws -> ConstantTensor {
            guard let c = try constant(i) else {
                throw ONNXError(.invalidModel, "\(label) is missing its input \(i + 1)")
            }
            return c
        }
        switch node.opType {
        case "Constant":
            return [try constantValue(node)]
        case "Shape":
            guard let x = inputs.first ?? nil else { throw ONNXError(.invalidModel, "\(label) has no input") }
            let shape = x.shape
            let rank = shape.count
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
            let start = clamp(node.int("start", 0))
            let end = clamp(node.int("end", rank))
            let dims = start < end ? Array(shape[start..<end]) : []
            return [ConstantTensor(shape: [dims.count], ints: dims)]
        default:
            break
        }
        guard allConstant else { return nil }
        // Folding materializes index tables: anything bigger than 2^24 elements runs as a step.
        if node.opType != "Constant", let largest = broadcastCount(inputs), largest > maxFolded { return nil }
        switch node.opType {
        case "Identity", "Dropout":
            return [try required(0)]
        case "Cast":
            let x = try required(0)
            let to = node.int("to", 1)
            switch to {
            case 1, 10, 11: return [ConstantTensor(shape: x.shape, floats: x.floatValues)]
            case 2, 3, 4, 5, 6, 7, 9, 12, 13:
                return [ConstantTensor(shape: x.shape, ints: x.intValues.map { to == 9 ? ($0 != 0 ? 1 : 0) : $0 })]
            default: throw ONNXError(.unsupported, "\(label): cast to type \(to) is not supported")
            }
        case "Reshape":
            let x = try required(0)
            var r = x
            r.shape = try ShapeRules.reshape(
                x.shape, to: try required(1).intValues, allowZero: node.int("allowzero", 0) != 0, label)
            return [r]
        case "Flatten":
            var r = try required(0)
            r.shape = try ShapeRules.flatten(r.shape, axis: node.int("axis", 1), label)
            return [r]
        case "Unsqueeze":
            var r = try required(0)
            guard let axes = opset >= 13 ? try constant(1)?.intValues : node.ints("axes") else {
                throw ONNXError(.invalidModel, "\(label) has no axes")
            }
            r.shape = try ShapeRules.unsqueeze(r.shape, axes: axes, label)
            return [r]
        case "Squeeze":
            var r = try required(0)
            r.shape = try ShapeRules.squeeze(
                r.shape, axes: opset >= 13 ? try constant(1)?.intValues : node.ints("axes"), label)
            return [r]
        case "Gather":
            return [try gather(try required(0), try required(1), node)]
        case "Concat":
            let parts = try (0..<inputs.count).map { try required($0) }
            guard !parts.isEmpty else { throw ONNXError(.invalidModel, "\(label) has no inputs") }
            let axis = try ShapeRules.axis(node, 0, rank: parts[0].shape.count)
            let outer = parts[0].shape[..<axis].reduce(1, *)
            var indices: [[Int]] = parts.map { _ in [] }
            var shape = parts[0].shape
            let rank = shape.count
            var joined = 0
            for p in parts where p.shape.count == rank { joined += p.shape[axis] }
            shape[axis] = joined
            guard Shapes.count(shape) == parts.reduce(0, { $0 + $1.count }) else {
                throw ONNXError(.invalidModel, "\(label): shapes \(parts.map(\.shape)) do not concatenate")
            }
            let anyFloat = parts.contains { !$0.isInteger }
            var floats: [Float] = []
            var ints: [Int] = []
            for o in 0..<outer {
                for (i, p) in parts.enumerated() {
                    let inner = p.count / max(outer, 1)
                    indices[i] = Array((o * inner)..<((o + 1) * inner))
                    if anyFloat {
                        floats += indices[i].map { Float(p.value($0)) }
                    } else {
                        ints += indices[i].map { p.ints[$0] }
                    }
                }
            }
            return [anyFloat ? ConstantTensor(shape: shape, floats: floats) : ConstantTensor(shape: shape, ints: ints)]
        case "Slice":
            let x = try required(0)
            let plan = try ShapeRules.slice(
                x.shape, starts: try required(1).intValues, ends: try required(2).intValues,
                axes: try constant(3)?.intValues,
                steps: try constant(4)?.intValues, label)
            let strides = Shapes.strides(x.shape)
            let total = Shapes.count(plan.shape) ?? 0
            let outStrides = Shapes.strides(plan.shape)
            let indices = (0..<total).map { flat -> Int in
                var offset = 0
                for d in 0..<plan.shape.count {
                    let i = (flat / outStrides[d]) % plan.shape[d]
                    offset += (plan.starts[d] + i * plan.steps[d]) * strides[d]
                }
                return offset
            }
            return [x.gathering(indices, shape: plan.shape)]
        case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min":
            let a = try required(0)
            let b = try required(1)
            guard let shape = Shapes.broadcast(a.shape, b.shape) else {
                throw ONNXError(.invalidModel, "\(label): shapes \(a.shape) and \(b.shape) do not broadcast")
            }
            let ia = Shapes.broadcastIndices(a.shape, to: shape)
            let ib = Shapes.broadcastIndices(b.shape, to: shape)
            let integer = a.isInteger && b.isInteger
            let values = zip(ia, ib).map { i, j -> Double in
                let x = a.value(i)
                let y = b.value(j)
                switch node.opType {
                case "Add": return x + y
                case "Sub": return x - y
                case "Mul": return x * y
                case "Div": return integer ? (y == 0 ? 0 : (x / y).rounded(.towardZero)) : Double(Float(x) / Float(y))
                case "Max": return max(x, y)
                case "Min": return min(x, y)
                default: return Double(powf(Float(x), Float(y)))
                }
            }
            return [
                integer
                    ? a.with(shape: shape, values: values)
                    : ConstantTensor(shape: shape, floats: values.map { Float($0) })
            ]
        case "Range":
            let start = try required(0)
            let limit = try required(1)
            let delta = try required(2)
            let (s, l, d) = (start.value(0), limit.value(0), delta.value(0))
            guard d != 0, start.count == 1, limit.count == 1, delta.count == 1 else {
                throw ONNXError(.invalidModel, "\(label): bad range")
            }
            let steps = ((l - s) / d).rounded(.up)
            guard steps.isFinite, steps <= Double(maxFolded) else {
                throw ONNXError(.invalidModel, "\(label): range of \(steps) elements is too large")
            }
            let n = max(0, Int(steps))
            return [start.with(shape: [n], values: (0..<n).map { s + Double($0) * d })]
        case "ConstantOfShape":
            let shape = try required(0).intValues
            guard let n = Shapes.count(shape), n <= 1 << 24 else {
                throw ONNXError(.invalidModel, "\(label): shape \(shape) is too large")
            }
            let fill =
                try node.attribute("value").map { try TensorDecoding.decode($0.t, what: "\(label) value") }
                ?? ConstantTensor(shape: [1], floats: [0])
            guard fill.count == 1 else { throw ONNXError(.invalidModel, "\(label): value must hold one element") }
            return [fill.gathering([Int](repeating: 0, count: n), shape: shape)]
        default:
            return nil
        }
    }

    /// Largest tensor folding builds (elements).
    static let maxFolded = 1 << 24

    /// Elements of the inputs broadcast together (the size of an element-wise result), or nil
    /// when they do not broadcast.
    static func broadcastCount(_ inputs: [ImportValue?]) -> Int? {
        var shape: [Int] = []
        var largest = 0
        for case let value? in inputs {
            largest = max(largest, Shapes.count(value.shape) ?? Int.max)
            guard let s = Shapes.broadcast(shape, value.shape) else { return largest }
            shape = s
        }
        return max(largest, Shapes.count(shape) ?? Int.max)
    }

    static func constantValue(_ node: Onnx_NodeProto) throws -> ConstantTensor {
        if let a = node.attribute("value") { return try TensorDecoding.decode(a.t, what: "\(node.label) value") }
        if let a = node.attribute("value_float") { return ConstantTensor(shape: [], floats: [a.f]) }
        if let a = node.attribute("value_floats") { return ConstantTensor(shape: [a.floats.count], floats: a.floats) }
        if let a = node.attribute("value_int") { return ConstantTensor(shape: [], ints: [Int(a.i)]) }
        if let a = node.attribute("value_ints") {
            return ConstantTensor(shape: [a.ints.count], ints: a.ints.map { Int($0) })
        }
        throw ONNXError(
            .unsupported, "\(node.label): only value, value_float(s) and value_int(s) constants are supported")
    }

    static func gather(_ data: ConstantTensor, _ indices: ConstantTensor, _ node: Onnx_NodeProto) throws
        -> ConstantTensor
    {
        let axis = try ShapeRules.axis(node, 0, rank: data.shape.count)
        let dim = data.shape[axis]
        let idx = try indices.intValues.map { i -> Int in
            let n = i < 0 ? i + dim : i
            guard n >= 0, n < dim else {
                throw ONNXError(.invalidModel, "\(node.label): index \(i) out of range for \(dim)")
            }
            return n
        }
        let outer = data.shape[..<axis].reduce(1, *)
        let inner = data.shape[(axis + 1)...].reduce(1, *)
        guard let total = Shapes.count([outer, idx.count, inner]), total <= maxFolded else {
            throw ONNXError(
                .unsupported, "\(node.label): gathering \(idx.count) slices of \(inner) elements is too large to fold")
        }
        var flat: [Int] = []
        for o in 0..<outer {
            for i in idx {
                let start = (o * dim + i) * inner
                flat.append(contentsOf: start..<(start + inner))
            }
        }
        let shape: [Int] = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        return data.gathering(flat, shape: shape)
    }
}
