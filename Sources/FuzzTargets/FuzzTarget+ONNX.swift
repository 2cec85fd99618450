import ONNX

extension FuzzTarget {
    /// Most floats (buffers and workspace) an imported fuzz input may take per call for the
    /// target to also run it; bigger graphs are only imported.
    package static let maxONNXRunFloats = 1 << 20

    /// The `onnx` target: the importer (protobuf decoding, validation, constant folding,
    /// fusion, kernel building) on the bytes as a model file, then, when the graph is small, one
    /// run on constant inputs. A refusal is an `ONNXError`; the import batch is 1 or, when the
    /// first byte is odd, 3 (so shape arithmetic on a symbolic batch folds differently).
    static func runONNX(_ data: [UInt8]) -> Outcome {
        do {
            let batch = (data.first ?? 0) & 1 == 1 ? 3 : 1
            let network = try ONNXImporter.load(Array(data.dropFirst()), batch: batch)
            guard network.floatsPerCall <= maxONNXRunFloats else { return .accepted }
            var feeds: [String: [Float]] = [:]
            for input in network.inputs {
                feeds[input.name] = (0..<input.shape.reduce(1, *)).map { Float($0 % 7) * 0.25 - 0.5 }
            }
            let outputs = try network.run(feeds)
            guard outputs.count == network.outputs.count else {
                return .unexpected("\(outputs.count) outputs for \(network.outputs.count) graph outputs")
            }
            return .accepted
        } catch let error as ONNXError {
            return .rejected(error.message)
        } catch {
            return .unexpected("\(type(of: error)): \(error)")
        }
    }
}
