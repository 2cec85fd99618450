import Common
import Inference
import SwiftProtobuf

/// The compiled artifact of an imported ONNX graph (`model.compiled` of an `onnx` version,
/// docs/formats.md): the graph as the importer leaves it (steps after constant folding, fusion
/// and in-place layout, with their shapes and fused activations), every convolution's weights
/// in execution layout (batch-norm folded, Winograd regrouped or panel packed) at a page
/// boundary, and the constants, in `ArtifactContainer` with `format` `onnx-graph`. Loading is a
/// memory map: convolution weights and constants are views into the mapping; no protobuf is
/// parsed and nothing is folded or packed.
package enum ONNXArtifact {
    /// The header's `format`: a Darknet artifact (`darknet-yolo`) is refused here, and this one there.
    package static let format = "onnx-graph"
    /// Constants of at least this many floats start at a page boundary.
    static let pageAlignedConstant = 1024

    /// A network loaded from an artifact, with the source model's `metadata_props`.
    package struct Loaded: Sendable {
        package var network: ONNXNetwork
        package var metadata: [String: String]
    }

    /// Imports `model` (ONNX bytes) at `batch` and writes its artifact.
    package static func compile(_ model: [UInt8], batch: Int = 1) throws -> [UInt8] {
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: model)
        } catch {
            throw ONNXError(.invalidModel, "not a readable ONNX model (protobuf decoding failed: \(error))")
        }
        let network = try ONNXImporter.load(proto, batch: batch)
        var metadata: [String: String] = [:]
        for entry in proto.metadataProps { metadata[entry.key] = entry.value }
        return try write(network, metadata: metadata)
    }

    /// Lays out `network`. `target` and `version` are recorded in the header (tests write foreign ones).
    package static func write(
        _ network: ONNXNetwork, metadata: [String: String] = [:], target: ArtifactTarget = .current,
        version: UInt32 = ArtifactContainer.formatVersion
    ) throws -> [UInt8] {
        var writer = StepWriter()
        var steps: [JSONValue] = []
        for step in network.steps { steps.append(try writer.encode(step)) }
        var constants: [JSONValue] = []
        for (b, p) in network.constants.buffers.sorted(by: { $0.key < $1.key }) {
            let n = network.bufferSizes[b]
            let values = Array(UnsafeBufferPointer(start: p, count: n))
            constants.append(["buffer": b.json, "floats": writer.floats(values, pageAligned: n >= pageAlignedConstant)])
        }
        func tensors(_ infos: [ONNXTensorInfo]) -> JSONValue {
            .array(infos.map { ["name": $0.name.json, "shape": $0.shape.json, "buffer": $0.buffer.json] })
        }
        let header: [(String, JSONValue)] = [
            ("opset", network.opset.json), ("metadata", metadata.json),
            ("opCounts", .array(network.opCounts.map { [$0.op.json, $0.count.json] })),
            ("inputs", tensors(network.inputs)), ("outputs", tensors(network.outputs)),
            ("bufferSizes", network.bufferSizes.json), ("constants", .array(constants)),
            ("views", .array(network.views.map { [$0.buffer.json, $0.view.base.json, $0.view.offset.json] })),
            ("steps", .array(steps)),
        ]
        return ArtifactContainer.write(
            format: format, header: header, data: writer.data, target: target, version: version)
    }

    /// Builds the network from an artifact at `base` (`count` bytes, page-aligned, already
    /// verified against the manifest); its weights and constants are views into that memory,
    /// which `owner` keeps alive and unchanged as long as the network lives. Throws
    /// `incompatibleArtifact` for another artifact format version, CPU target or kernel choice
    /// (load model.onnx then), `invalidModel` for an artifact that is malformed, truncated or
    /// holds another kind of model.
    package static func load(_ base: UnsafeRawPointer, count: Int, owner: any AnyObject & Sendable) throws -> Loaded {
        do {
            return try read(try ArtifactContainer.open(base, count: count, format: format), owner: owner)
        } catch let error as InferenceError {
            throw ONNXError(
                error.code == .incompatibleArtifact ? .incompatibleArtifact : .invalidModel, error.message,
                underlying: error)
        }
    }

    private static func read(_ contents: ArtifactContainer.Contents, owner: any AnyObject & Sendable) throws -> Loaded {
        let h = contents.header
        guard let list = h["bufferSizes"]?.elements, case let sizes = list.compactMap(\.intValue),
            sizes.count == list.count, sizes.allSatisfy({ $0 >= 0 && $0 <= GraphBuilder.maxTotalFloats }),
            sizes.reduce(0, +) <= GraphBuilder.maxTotalFloats,
            let opset = h["opset"]?.intValue, let stepList = h["steps"]?.elements
        else { throw malformed("the header lacks bufferSizes, opset or steps") }
        let reader = StepReader(contents: contents, bufferSizes: sizes, owner: owner)
        func tensors(_ key: String) throws -> [ONNXTensorInfo] {
            guard let list = h[key]?.elements else { throw malformed("the header lacks \(key)") }
            return try list.map {
                guard let name = $0["name"]?.stringValue else { throw malformed("a tensor of \(key) has no name") }
                let shape = try reader.ints($0["shape"], "shape")
                let buffer = try reader.buffer($0["buffer"], "buffer")
                guard Shapes.count(shape) == sizes[buffer] else {
                    throw malformed("\(name)'s shape does not fit its buffer")
                }
                return ONNXTensorInfo(name: name, shape: shape, buffer: buffer)
            }
        }
        let inputs = try tensors("inputs")
        let outputs = try tensors("outputs")
        var constants: [Int: UnsafePointer<Float>] = [:]
        for c in h["constants"]?.elements ?? [] {
            let b = try reader.buffer(c["buffer"], "constant buffer")
            let f = c["floats"]
            let (p, n) = try contents.floats(at: f?["at"]?.intValue, count: f?["count"]?.intValue, what: "a constant")
            guard n == sizes[b], constants.updateValue(p, forKey: b) == nil else {
                throw malformed("constant \(b) does not fit its buffer")
            }
        }
        var views: [Int: InPlaceLayout.View] = [:]
        for v in h["views"]?.elements ?? [] {
            let parts = try reader.ints(v, "view")
            guard parts.count == 3, sizes.indices.contains(parts[0]), sizes.indices.contains(parts[1]),
                parts[2] >= 0, parts[2] + sizes[parts[0]] <= sizes[parts[1]]
            else { throw malformed("a view does not lie inside its base buffer") }
            views[parts[0]] = InPlaceLayout.View(base: parts[1], offset: parts[2])
        }
        for start in views.keys {
            var b = start
            for _ in 0...views.count {
                guard let next = views[b]?.base else { break }
                b = next
            }
            guard views[b] == nil else { throw malformed("views of buffer \(start) form a cycle") }
        }
        let steps = try stepList.map { json in
            let step = try reader.decode(json)
            try reader.check(step)
            return step
        }
        var metadata: [String: String] = [:]
        for (k, v) in h["metadata"]?.members ?? [] { metadata[k] = v.stringValue }
        let opCounts = (h["opCounts"]?.elements ?? []).compactMap { e -> (op: String, count: Int)? in
            guard let pair = e.elements, pair.count == 2, let op = pair[0].stringValue, let n = pair[1].intValue
            else { return nil }
            return (op, n)
        }
        let network = ONNXNetwork(
            inputs: inputs, outputs: outputs, opCounts: opCounts, opset: opset, steps: steps, bufferSizes: sizes,
            constants: ConstantStore(views: constants, owner: owner), views: views)
        return Loaded(network: network, metadata: metadata)
    }

    static func malformed(_ why: String) -> ONNXError {
        ONNXError(.invalidModel, "the compiled artifact is not usable: \(why)")
    }
}
