import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads an ONNX model and imports it onto the engine: every part of the file is checked first
/// (opset, op types, tensors, graph structure), then constants and shape arithmetic are folded,
/// convolutions absorb their batch norms and activations, and the rest becomes kernel steps.
package enum ONNXImporter {
    /// Opsets of the default domain we import.
    package static let supportedOpsets = 11...17

    /// Largest batch a symbolic batch dimension may be imported at.
    package static let maxBatch = 4096

    /// Imports the model in `bytes`. A symbolic first dimension of a graph input (a batch) is
    /// fixed at `batch` (shape arithmetic on it is then folded at import like every other shape).
    package static func load(_ bytes: [UInt8], batch: Int = 1) throws -> ONNXNetwork {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw ONNXError(
                .invalidModel, "not a readable ONNX model (protobuf decoding failed: \(error)); is the file complete?",
                underlying: error)
        }
        return try load(model, batch: batch)
    }

    /// Imports an already decoded model.
    static func load(_ model: Onnx_ModelProto, batch: Int = 1) throws -> ONNXNetwork {
        guard batch >= 1, batch <= maxBatch else {
            throw ONNXError(.invalidInput, "batch \(batch) is outside 1…\(maxBatch)")
        }
        guard model.hasGraph else {
            throw ONNXError(.invalidModel, "the model has no graph (is this an ONNX model file?)")
        }
        let opset = try defaultOpset(model)
        let graph = model.graph
        let order = try validate(graph, opset: opset)
        var builder = GraphBuilder(opset: opset, graph: graph, batch: batch)
        try builder.addInitializers(graph.initializer)
        try builder.addInputs(graph.input)
        for index in order { try builder.add(graph.node[index]) }
        return try builder.finish(outputs: graph.output.map(\.name))
    }

    /// The version of the default ("" / "ai.onnx") domain, refusing unsupported ones by name.
    static func defaultOpset(_ model: Onnx_ModelProto) throws -> Int {
        guard let entry = model.opsetImport.first(where: { $0.domain == "" || $0.domain == "ai.onnx" }) else {
            throw ONNXError(
                .unsupported, "the model imports no default ONNX opset (only \(model.opsetImport.map(\.domain)))")
        }
        let version = Int(entry.version)
        guard supportedOpsets.contains(version) else {
            throw ONNXError(
                .unsupported,
                "opset \(version) is not supported (supported: \(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound)); re-export the model with opset 17"
            )
        }
        return version
    }

    /// Checks every node's op type and inputs, and returns the nodes in a topological order;
    /// refuses unknown ops, dangling inputs, duplicate outputs and cycles.
    static func validate(_ graph: Onnx_GraphProto, opset: Int) throws -> [Int] {
        var known = Set<String>(graph.initializer.map(\.name))
        for input in graph.input { known.insert(input.name) }
        var producer: [String: Int] = [:]
        for (i, node) in graph.node.enumerated() {
            guard node.domain == "" || node.domain == "ai.onnx", GraphBuilder.supportedOps.contains(node.opType) else {
                let domain = node.domain.isEmpty ? "" : " in domain '\(node.domain)'"
                throw ONNXError(
                    .unsupported,
                    "node '\(node.name)' uses op \(node.opType)\(domain) (opset \(opset)), which is not supported; supported ops: \(GraphBuilder.supportedOps.sorted().joined(separator: ", "))"
                )
            }
            for output in node.output where !output.isEmpty {
                guard producer[output] == nil, !known.contains(output) else {
                    throw ONNXError(
                        .invalidModel,
                        "tensor '\(output)' is produced twice (node '\(node.name)'): the graph is invalid")
                }
                producer[output] = i
            }
        }
        // Kahn's algorithm over node dependencies.
        var pending = [Int](repeating: 0, count: graph.node.count)
        var consumers = [[Int]](repeating: [], count: graph.node.count)
        for (i, node) in graph.node.enumerated() {
            for input in node.input where !input.isEmpty {
                if let p = producer[input] {
                    pending[i] += 1
                    consumers[p].append(i)
                } else if !known.contains(input) {
                    throw ONNXError(
                        .invalidModel,
                        "node '\(node.name)' (\(node.opType)) reads '\(input)', which no node, input or initializer provides: the graph is invalid"
                    )
                }
            }
        }
        var ready = (0..<graph.node.count).filter { pending[$0] == 0 }.reversed().map { $0 }
        var order: [Int] = []
        order.reserveCapacity(graph.node.count)
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i] {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        guard order.count == graph.node.count else {
            let stuck = (0..<graph.node.count).first { pending[$0] > 0 }.map { graph.node[$0].name } ?? "?"
            throw ONNXError(
                .invalidModel, "the graph has a cycle (through node '\(stuck)'): ONNX graphs must be acyclic")
        }
        for output in graph.output where producer[output.name] == nil && !known.contains(output.name) {
            throw ONNXError(.invalidModel, "graph output '\(output.name)' is produced by nothing: the graph is invalid")
        }
        return order
    }
}
