import Inference
import InferenceKernels

extension GraphBuilder {
    /// Imports one node: folds it when its inputs are known, else appends its steps.
    mutating func add(_ node: Onnx_NodeProto) throws {
        let inputs: [ImportValue?] = node.input.map { $0.isEmpty ? nil : values[$0] }
        func input(_ i: Int) throws -> ImportValue {
            guard i < inputs.count, let v = inputs[i] else {
                throw ONNXError(.invalidModel, "\(node.label) is missing its input \(i + 1)")
            }
            return v
        }
        func constant(_ i: Int) throws -> ConstantTensor? {
            guard i < inputs.count, let v = inputs[i] else { return nil }
            guard case .constant(let c) = v else {
                throw ONNXError(
                    .unsupported,
                    "\(node.label): input \(i + 1) ('\(node.input[i])') must be known at import (a constant or shape arithmetic), but it is computed at run time"
                )
            }
            return c
        }
        if node.opType == "LSTM" { return try addLSTM(node, inputs) }
        guard let first = node.output.first, !first.isEmpty else {
            throw ONNXError(.invalidModel, "\(node.label) has no output")
        }
        let allConstant = inputs.allSatisfy { v in if case .runtime = v { return false } else { return true } }
        if let folded = try ConstantFolding.fold(node, inputs, allConstant: allConstant, opset: opset) {
            guard folded.count >= node.output.filter({ !$0.isEmpty }).count else {
                throw ONNXError(.invalidModel, "\(node.label) has more outputs than the op produces")
            }
            for (name, value) in zip(node.output, folded) where !name.isEmpty {
                foldedElements += value.count
                guard foldedElements <= Self.maxFoldedElements else {
                    throw ONNXError(
                        .unsupported,
                        "\(node.label): constants computed at import pass \(Self.maxFoldedElements) elements in all; refusing the model (is it built to exhaust memory?)"
                    )
                }
                values[name] = .constant(value)
            }
            return
        }
        func output(_ shape: [Int], _ i: Int = 0) throws -> Int {
            let buffer = try newBuffer(shape, "\(node.label) output")
            values[node.output[i]] = .runtime(buffer: buffer, shape: shape)
            return buffer
        }
        func alias(_ value: ImportValue, _ shape: [Int]) throws {
            let (buffer, _) = try runtime(value, node.label)
            values[first] = .runtime(buffer: buffer, shape: shape)
        }
        let label = node.label
        switch node.opType {
        case "Identity", "Dropout":
            values[first] = try input(0)
        case "Cast":
            let to = node.int("to", 1)
            guard to == 1 || to == 11 else {
                throw ONNXError(
                    .unsupported, "\(label): casting a run-time tensor to type \(to) is not supported (float only)")
            }
            values[first] = try input(0)
        case "Reshape":
            let x = try input(0)
            guard let target = try constant(1) else { throw ONNXError(.invalidModel, "\(label) has no shape input") }
            try alias(
                x,
                try ShapeRules.reshape(x.shape, to: target.intValues, allowZero: node.int("allowzero", 0) != 0, label))
        case "Flatten":
            let x = try input(0)
            try alias(x, try ShapeRules.flatten(x.shape, axis: node.int("axis", 1), label))
        case "Unsqueeze":
            let x = try input(0)
            let axes = opset >= 13 ? try constant(1)?.intValues : node.ints("axes")
            guard let axes else { throw ONNXError(.invalidModel, "\(label) has no axes") }
            try alias(x, try ShapeRules.unsqueeze(x.shape, axes: axes, label))
        case "Squeeze":
            let x = try input(0)
            let axes = opset >= 13 ? try constant(1)?.intValues : node.ints("axes")
            try alias(x, try ShapeRules.squeeze(x.shape, axes: axes, label))
        case "Conv":
            try addConv(node, try input(0), try constant(1), try constant(2))
        case "BatchNormalization":
            try addBatchNorm(node, try input(0), (1...4).map { try constant($0) })
        case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Softplus", "Neg", "Sqrt", "Abs":
            let ops: [String: UnaryOp] = [
                "Relu": .relu, "Sigmoid": .sigmoid, "Tanh": .tanh, "Exp": .exp, "Softplus": .softplus, "Neg": .neg,
                "Sqrt": .sqrt, "Abs": .abs, "LeakyRelu": .leakyRelu(node.float("alpha", 0.01)),
            ]
            let (x, shape) = try runtime(try input(0), label)
            let out = try output(shape)
            append(.unary(ops[node.opType]!, input: x, output: out, count: bufferSizes[out]), writes: [out])
        case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min":
            guard inputs.count == 2 else { throw ONNXError(.unsupported, "\(label): only two operands are supported") }
            let (a, aShape) = try runtime(try input(0), label)
            let (b, bShape) = try runtime(try input(1), label)
            guard let shape = Shapes.broadcast(aShape, bShape) else {
                throw ONNXError(.invalidModel, "\(label): shapes \(aShape) and \(bShape) do not broadcast")
            }
            let out = try output(shape)
            append(
                .binary(
                    BinaryOp(rawValue: node.opType)!, a: a, aShape: aShape, b: b, bShape: bShape, output: out,
                    shape: shape), writes: [out])
        case "Concat":
            let parts = try (0..<inputs.count).map { try runtime(try input($0), label) }
            let rank = parts[0].shape.count
            let axis = try ShapeRules.axis(node, 0, rank: rank)
            var shape = parts[0].shape
            shape[axis] = 0
            for p in parts {
                guard p.shape.count == rank, (0..<rank).allSatisfy({ $0 == axis || p.shape[$0] == parts[0].shape[$0] })
                else {
                    throw ONNXError(
                        .invalidModel, "\(label): shapes \(parts.map(\.shape)) do not concatenate on axis \(axis)")
                }
                shape[axis] += p.shape[axis]
            }
            let out = try output(shape)
            append(
                .concat(inputs: parts.map(\.buffer), shapes: parts.map(\.shape), axis: axis, output: out), writes: [out]
            )
        case "Split":
            let (x, shape) = try runtime(try input(0), label)
            let axis = try ShapeRules.axis(node, 0, rank: shape.count)
            let count = node.output.count
            var sizes = opset >= 13 ? try constant(1)?.intValues : node.ints("split")
            if sizes == nil || sizes!.isEmpty {
                guard count > 0, shape[axis] % count == 0 else {
                    throw ONNXError(.invalidModel, "\(label): \(shape[axis]) does not split in \(count)")
                }
                sizes = [Int](repeating: shape[axis] / count, count: count)
            }
            guard let sizes, sizes.count == count, sizes.allSatisfy({ $0 >= 0 && $0 <= shape[axis] }),
                sizes.reduce(0, +) == shape[axis]
            else {
                throw ONNXError(.invalidModel, "\(label): split sizes do not add up to \(shape[axis])")
            }
            let outs = try sizes.enumerated().map { i, s -> Int in
                var part = shape
                part[axis] = s
                return try output(part, i)
            }
            append(.split(input: x, shape: shape, axis: axis, sizes: sizes, outputs: outs), writes: outs)
        case "Slice":
            let (x, shape) = try runtime(try input(0), label)
            guard let starts = try constant(1), let ends = try constant(2) else {
                throw ONNXError(.invalidModel, "\(label) needs starts and ends")
            }
            let plan = try ShapeRules.slice(
                shape, starts: starts.intValues, ends: ends.intValues, axes: try constant(3)?.intValues,
                steps: try constant(4)?.intValues, label)
            let out = try output(plan.shape)
            append(
                .slice(
                    input: x, shape: shape, starts: plan.starts, steps: plan.steps, output: out, outShape: plan.shape),
                writes: [out])
        case "Transpose":
            let (x, shape) = try runtime(try input(0), label)
            let perm = node.ints("perm") ?? Array((0..<shape.count).reversed())
            guard perm.count == shape.count, Set(perm) == Set(0..<shape.count) else {
                throw ONNXError(.invalidModel, "\(label): perm \(perm) is not a permutation of \(shape.count) axes")
            }
            let out = try output(perm.map { shape[$0] })
            append(.transpose(input: x, shape: shape, perm: perm, output: out), writes: [out])
        case "Expand":
            let (x, shape) = try runtime(try input(0), label)
            guard let target = try constant(1), let outShape = Shapes.broadcast(shape, target.intValues) else {
                throw ONNXError(.invalidModel, "\(label): the shape does not broadcast")
            }
            let out = try output(outShape)
            append(.expand(input: x, shape: shape, output: out, outShape: outShape), writes: [out])
        case "Softmax":
            let (x, shape) = try runtime(try input(0), label)
            let axis = try ShapeRules.axis(node, opset >= 13 ? -1 : 1, rank: shape.count)
            let outer = shape[..<axis].reduce(1, *)
            let tail: Int = shape[axis...].reduce(1, *)
            let mid = opset >= 13 ? shape[axis] : tail
            let inner = tail / max(mid, 1)
            let out = try output(shape)
            append(.softmax(input: x, outer: outer, axis: mid, inner: inner, output: out), writes: [out])
        case "MaxPool":
            try addMaxPool(node, try input(0))
        case "Resize":
            try addResize(node, try input(0), try constant(2), try constant(3))
        case "Gemm":
            try addGemm(node, try input(0), try constant(1), try constant(2))
        case "MatMul":
            try addMatMul(node, try input(0), try input(1))
        default:
            throw ONNXError(.unsupported, "\(label): op \(node.opType) is supported only on tensors known at import")
        }
    }
}
