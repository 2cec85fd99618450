import Common
import Inference
import InferenceKernels

/// How each step of an imported graph is written to and read from a compiled artifact's
/// header: one JSON object per step, its kernel's parameters as numbers, its float arrays as
/// regions of the artifact's data (`{"at": byte offset, "count": floats}`).
extension ONNXArtifact {
    /// Writes steps, placing their floats with `data`.
    struct StepWriter {
        var data = ArtifactContainer.Writer()

        mutating func floats(_ values: [Float], pageAligned: Bool = false) -> JSONValue {
            ["at": data.add(values, pageAligned: pageAligned).json, "count": values.count.json]
        }

        mutating func encode(_ step: Step) throws -> JSONValue {
            switch step {
            case .pendingConv:
                throw ONNXError(.invalidModel, "a convolution was left unbuilt; the graph cannot be compiled")
            case .conv(let c):
                return [
                    "op": "conv", "cfg": c.cfg.json, "layout": c.layer.weightLayout.json, "input": c.input.json,
                    "output": c.output.json, "residual": c.residual.json,
                    "weights": floats(c.layer.weights.array, pageAligned: true), "bias": floats(c.layer.bias),
                ]
            case .unary(let op, let input, let output, let count):
                var alpha = 0
                if case .leakyRelu(let a) = op { alpha = Int(a.bitPattern) }
                return [
                    "op": "unary", "fn": ONNXArtifact.name(op).json, "alphaBits": alpha.json, "input": input.json,
                    "output": output.json, "count": count.json,
                ]
            case .channelAffine(let input, let output, let outer, let channels, let inner, let scale, let shift):
                return [
                    "op": "channelAffine", "input": input.json, "output": output.json, "outer": outer.json,
                    "channels": channels.json, "inner": inner.json, "scale": floats(scale), "shift": floats(shift),
                ]
            case .binary(let op, let a, let aShape, let b, let bShape, let output, let shape):
                return [
                    "op": "binary", "fn": op.rawValue.json, "a": a.json, "aShape": aShape.json, "b": b.json,
                    "bShape": bShape.json, "output": output.json, "shape": shape.json,
                ]
            case .concat(let inputs, let shapes, let axis, let output):
                return [
                    "op": "concat", "inputs": inputs.json, "shapes": shapes.json, "axis": axis.json,
                    "output": output.json,
                ]
            case .split(let input, let shape, let axis, let sizes, let outputs):
                return [
                    "op": "split", "input": input.json, "shape": shape.json, "axis": axis.json, "sizes": sizes.json,
                    "outputs": outputs.json,
                ]
            case .slice(let input, let shape, let starts, let steps, let output, let outShape):
                return [
                    "op": "slice", "input": input.json, "shape": shape.json, "starts": starts.json,
                    "steps": steps.json, "output": output.json, "outShape": outShape.json,
                ]
            case .transpose(let input, let shape, let perm, let output):
                return [
                    "op": "transpose", "input": input.json, "shape": shape.json, "perm": perm.json,
                    "output": output.json,
                ]
            case .expand(let input, let shape, let output, let outShape):
                return [
                    "op": "expand", "input": input.json, "shape": shape.json, "output": output.json,
                    "outShape": outShape.json,
                ]
            case .softmax(let input, let outer, let axis, let inner, let output):
                return [
                    "op": "softmax", "input": input.json, "outer": outer.json, "axis": axis.json,
                    "inner": inner.json, "output": output.json,
                ]
            case .maxPool(let p):
                return [
                    "op": "maxPool",
                    "ints": [
                        p.input, p.output, p.planes, p.height, p.width, p.kernelH, p.kernelW, p.strideH, p.strideW,
                        p.padTop, p.padLeft, p.outHeight, p.outWidth,
                    ].json,
                ]
            case .resizeNearest(let input, let planes, let height, let width, let rows, let columns, let output):
                return [
                    "op": "resizeNearest", "input": input.json, "planes": planes.json, "height": height.json,
                    "width": width.json, "rows": rows.json, "columns": columns.json, "output": output.json,
                ]
            case .matmul(let a, let b, let output, let batch, let m, let n, let k, let aStride, let bStride):
                return [
                    "op": "matmul", "ints": [a, b, output, batch, m, n, k, aStride, bStride].json,
                ]
            case .lstm(let s):
                var directions: [JSONValue] = []
                for d in s.directions {
                    directions.append([
                        "kernel": floats(d.kernel, pageAligned: true), "recurrent": floats(d.recurrent),
                        "bias": floats(d.bias), "reverse": d.reverse.json,
                    ])
                }
                return [
                    "op": "lstm", "x": s.x.json, "initialH": s.initialH.json, "initialC": s.initialC.json,
                    "y": s.y.json, "yH": s.yH.json, "yC": s.yC.json,
                    "ints": [s.seq, s.batch, s.input, s.hidden, s.layout].json, "directions": .array(directions),
                    "lengths": s.lengths.json,
                ]
            }
        }
    }

    static func name(_ op: UnaryOp) -> String {
        switch op {
        case .sigmoid: "sigmoid"
        case .relu: "relu"
        case .tanh: "tanh"
        case .exp: "exp"
        case .softplus: "softplus"
        case .neg: "neg"
        case .sqrt: "sqrt"
        case .abs: "abs"
        case .silu: "silu"
        case .leakyRelu: "leakyRelu"
        }
    }

    static func unary(_ name: String, alphaBits: Int) -> UnaryOp? {
        switch name {
        case "sigmoid": .sigmoid
        case "relu": .relu
        case "tanh": .tanh
        case "exp": .exp
        case "softplus": .softplus
        case "neg": .neg
        case "sqrt": .sqrt
        case "abs": .abs
        case "silu": .silu
        case "leakyRelu": .leakyRelu(Float(bitPattern: UInt32(truncatingIfNeeded: alphaBits)))
        default: nil
        }
    }
}
