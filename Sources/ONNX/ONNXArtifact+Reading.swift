import Common
import Inference
import InferenceKernels

/// Reading steps back from a compiled artifact's header (`ONNXArtifact.StepWriter` wrote them).
/// Every buffer index is checked against the graph's buffers and every convolution's shapes
/// against its buffers, so a malformed header is refused rather than run.
extension ONNXArtifact {
    struct StepReader {
        let contents: ArtifactContainer.Contents
        let bufferSizes: [Int]
        let owner: any AnyObject & Sendable

        func malformed(_ why: String) -> ONNXError {
            ONNXError(.invalidModel, "the compiled artifact is not usable: \(why)")
        }

        func int(_ v: JSONValue?, _ what: String) throws -> Int {
            guard let i = v?.intValue else { throw malformed("step field '\(what)' is missing") }
            return i
        }

        func ints(_ v: JSONValue?, _ what: String) throws -> [Int] {
            guard let e = v?.elements else { throw malformed("step field '\(what)' is missing") }
            return try e.map { try int($0, what) }
        }

        func shapes(_ v: JSONValue?, _ what: String) throws -> [[Int]] {
            guard let e = v?.elements else { throw malformed("step field '\(what)' is missing") }
            return try e.map { try ints($0, what) }
        }

        /// A buffer index of the graph.
        func buffer(_ v: JSONValue?, _ what: String) throws -> Int {
            let b = try int(v, what)
            guard bufferSizes.indices.contains(b) else { throw malformed("step field '\(what)' names no buffer") }
            return b
        }

        func optionalBuffer(_ v: JSONValue?, _ what: String) throws -> Int? {
            if v == nil || v == .null { return nil }
            return try buffer(v, what)
        }

        /// A region's floats, copied.
        func floats(_ v: JSONValue?, _ what: String) throws -> [Float] {
            let (p, n) = try contents.floats(at: v?["at"]?.intValue, count: v?["count"]?.intValue, what: what)
            return Array(UnsafeBufferPointer(start: p, count: n))
        }

        func decode(_ j: JSONValue) throws -> Step {
            let ints = { (name: String) in try self.ints(j[name], name) }
            let int = { (name: String) in try self.int(j[name], name) }
            let buffer = { (name: String) in try self.buffer(j[name], name) }
            switch j["op"]?.stringValue {
            case "conv": return .conv(try conv(j))
            case "unary":
                guard let op = ONNXArtifact.unary(j["fn"]?.stringValue ?? "", alphaBits: try int("alphaBits")) else {
                    throw malformed("unknown unary function")
                }
                return .unary(op, input: try buffer("input"), output: try buffer("output"), count: try int("count"))
            case "channelAffine":
                return .channelAffine(
                    input: try buffer("input"), output: try buffer("output"), outer: try int("outer"),
                    channels: try int("channels"), inner: try int("inner"), scale: try floats(j["scale"], "scale"),
                    shift: try floats(j["shift"], "shift"))
            case "binary":
                guard let op = BinaryOp(rawValue: j["fn"]?.stringValue ?? "") else {
                    throw malformed("unknown binary function")
                }
                return .binary(
                    op, a: try buffer("a"), aShape: try ints("aShape"), b: try buffer("b"), bShape: try ints("bShape"),
                    output: try buffer("output"), shape: try ints("shape"))
            case "concat":
                return .concat(
                    inputs: try ints("inputs").map { try self.buffer(.int($0), "inputs") },
                    shapes: try shapes(j["shapes"], "shapes"), axis: try int("axis"), output: try buffer("output"))
            case "split":
                return .split(
                    input: try buffer("input"), shape: try ints("shape"), axis: try int("axis"),
                    sizes: try ints("sizes"),
                    outputs: try ints("outputs").map { try self.buffer(.int($0), "outputs") })
            case "slice":
                return .slice(
                    input: try buffer("input"), shape: try ints("shape"), starts: try ints("starts"),
                    steps: try ints("steps"), output: try buffer("output"), outShape: try ints("outShape"))
            case "transpose":
                return .transpose(
                    input: try buffer("input"), shape: try ints("shape"), perm: try ints("perm"),
                    output: try buffer("output"))
            case "expand":
                return .expand(
                    input: try buffer("input"), shape: try ints("shape"), output: try buffer("output"),
                    outShape: try ints("outShape"))
            case "softmax":
                return .softmax(
                    input: try buffer("input"), outer: try int("outer"), axis: try int("axis"), inner: try int("inner"),
                    output: try buffer("output"))
            case "maxPool":
                let v = try ints("ints")
                guard v.count == 13 else { throw malformed("a max pool step has \(v.count) parameters") }
                _ = try (0..<2).map { try self.buffer(.int(v[$0]), "maxPool") }
                return .maxPool(
                    MaxPoolSpec(
                        input: v[0], output: v[1], planes: v[2], height: v[3], width: v[4], kernelH: v[5],
                        kernelW: v[6], strideH: v[7], strideW: v[8], padTop: v[9], padLeft: v[10], outHeight: v[11],
                        outWidth: v[12]))
            case "resizeNearest":
                return .resizeNearest(
                    input: try buffer("input"), planes: try int("planes"), height: try int("height"),
                    width: try int("width"), rows: try ints("rows"), columns: try ints("columns"),
                    output: try buffer("output"))
            case "matmul":
                let v = try ints("ints")
                guard v.count == 9 else { throw malformed("a matmul step has \(v.count) parameters") }
                _ = try (0..<3).map { try self.buffer(.int(v[$0]), "matmul") }
                return .matmul(
                    a: v[0], b: v[1], output: v[2], batch: v[3], m: v[4], n: v[5], k: v[6], aStride: v[7],
                    bStride: v[8])
            case "lstm": return .lstm(try lstm(j))
            default: throw malformed("unknown step '\(j["op"]?.stringValue ?? "?")'")
            }
        }

        /// A convolution: its layer rebuilt from its cfg, its weights a view into the artifact.
        func conv(_ j: JSONValue) throws -> ConvKernel {
            guard let cfg = j["cfg"]?.stringValue, let layout = j["layout"]?.stringValue else {
                throw malformed("a convolution lacks its cfg or layout")
            }
            let layer = try ConvKernel.unloaded(cfg, "in the artifact")
            guard layout == layer.weightLayout else {
                throw ONNXError(
                    .incompatibleArtifact,
                    "a convolution was laid out as \(layout), this build runs it as \(layer.weightLayout)")
            }
            let input = try buffer(j["input"], "input")
            let output = try buffer(j["output"], "output")
            let residual = try optionalBuffer(j["residual"], "residual")
            let out = layer.outputShape
            guard bufferSizes[input] == layer.input.channels * layer.input.height * layer.input.width,
                bufferSizes[output] == out.channels * out.height * out.width,
                residual.map({ bufferSizes[$0] == bufferSizes[output] }) ?? true, residual == nil || layer.addsResidual
            else { throw malformed("a convolution's buffers do not fit its shapes") }
            let w = j["weights"]
            let (p, n) = try contents.floats(
                at: w?["at"]?.intValue, count: w?["count"]?.intValue, alignment: 64, what: "convolution weights")
            let loaded: ConvolutionalLayer
            do {
                loaded = try layer.loadingCompiled(
                    weights: WeightStorage(view: p, count: n, owner: owner), bias: try floats(j["bias"], "bias"))
            } catch let error as InferenceError {
                throw malformed("a convolution: \(error.message)")
            }
            return ConvKernel(cfg: cfg, layer: loaded, input: input, output: output, residual: residual)
        }

        func lstm(_ j: JSONValue) throws -> LSTMSpec {
            let v = try ints(j["ints"], "ints")
            guard v.count == 5, let dirs = j["directions"]?.elements else {
                throw malformed("an LSTM step lacks its sizes or directions")
            }
            let directions = try dirs.map { d in
                LSTMSpec.Direction(
                    kernel: try floats(d["kernel"], "kernel"), recurrent: try floats(d["recurrent"], "recurrent"),
                    bias: try floats(d["bias"], "bias"), reverse: d["reverse"]?.boolValue ?? false)
            }
            let spec = LSTMSpec(
                x: try buffer(j["x"], "x"), initialH: try optionalBuffer(j["initialH"], "initialH"),
                initialC: try optionalBuffer(j["initialC"], "initialC"), y: try optionalBuffer(j["y"], "y"),
                yH: try optionalBuffer(j["yH"], "yH"), yC: try optionalBuffer(j["yC"], "yC"), seq: v[0], batch: v[1],
                input: v[2], hidden: v[3], layout: v[4], directions: directions,
                lengths: try ints(j["lengths"], "lengths"))
            for d in directions
            where d.kernel.count != 4 * spec.hidden * spec.input || d.recurrent.count != 4 * spec.hidden * spec.hidden
                || d.bias.count != 4 * spec.hidden
            {
                throw malformed("an LSTM direction's weights do not fit its sizes")
            }
            return spec
        }
    }
}
