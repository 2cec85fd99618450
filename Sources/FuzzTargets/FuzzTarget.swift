import Functions
import Inference
import Runtime

/// The parsers that take bytes from the outside world, as fuzz targets: the image decode shim,
/// the runtime's stock series codec (CSV/JSON, forms), the Darknet cfg parser, the weights reader, the V2 request
/// parser, the ONNX importer and the gRPC infer request decoding. `run` feeds one input; an input
/// may be accepted or rejected with the module's typed error, and anything else (another error
/// type, an `internal` error) is `unexpected`. A trap is a crash the fuzzer (or the replay test)
/// reports.
package enum FuzzTarget: String, CaseIterable, Sendable {
    case image, csv, cfg, weights, v2
    /// The ONNX importer (`FuzzTarget+ONNX.swift`).
    case onnx
    /// The gRPC V2 `ModelInferRequest` decoding (FuzzTarget+GRPC.swift).
    case grpc

    /// What one input did.
    package enum Outcome: Equatable, Sendable {
        case accepted
        case rejected(String)
        case unexpected(String)
    }

    /// Pixel limit for the image target (detect's default is 40 M; smaller keeps runs fast).
    package static let maxPixels = 4_000_000

    package func run(_ data: [UInt8]) -> Outcome {
        do {
            switch self {
            case .image:
                _ = try ImageCodec.decode(data, maxPixels: Self.maxPixels)
            case .csv:
                // The runtime's request codec. The first byte picks the content type (bit 0: JSON,
                // bit 2: the rest wrapped as a multipart form's `file` part) and `?order=` (bit 1).
                let flags = data.first ?? 0
                _ = try TypedCodec.stockSeries(from: Self.seriesRequest(Array(data.dropFirst()), flags: flags))
            case .cfg:
                let config = try DarknetConfig(text: String(decoding: data, as: UTF8.self))
                _ = config.flops
            case .weights:
                var reader = DarknetWeightsReader(config: try Self.weightsConfig())
                // The first byte sets the chunk size, so chunk boundaries move around.
                let chunk = Int(data.first ?? 0) + 1
                var rest = data.dropFirst()[...]
                while !rest.isEmpty {
                    try reader.consume(Array(rest.prefix(chunk)))
                    rest = rest.dropFirst(chunk)
                }
                _ = try reader.finish()
            case .onnx:
                return Self.runONNX(data)
            case .v2:
                // First byte: 0 = JSON only; otherwise the JSON header is that many bytes.
                let length = data.first.map { $0 == 0 ? nil : String($0) } ?? nil
                _ = try V2RequestParser.decode(body: Array(data.dropFirst()), headerLength: length)
            case .grpc:
                try Self.runGRPC(data)
            }
            return .accepted
        } catch let error as FunctionError {
            return error.code == .internal ? .unexpected("internal: \(error.message)") : .rejected(error.message)
        } catch let error as InferenceError {
            return .rejected(error.message)
        } catch {
            return .unexpected("\(type(of: error)): \(error)")
        }
    }

    /// A small network with every weighted layer kind (conv with and without batch-norm,
    /// depthwise) for the weights target; also a seed of the cfg target.
    package static let weightsCfgText = """
        [net]
        width=8
        height=8
        channels=3
        [convolutional]
        batch_normalize=1
        filters=4
        size=3
        stride=1
        pad=1
        activation=leaky
        [convolutional]
        batch_normalize=1
        filters=4
        groups=4
        size=3
        stride=2
        pad=1
        activation=relu
        [convolutional]
        filters=6
        size=1
        stride=1
        activation=linear
        """

    package static func weightsConfig() throws -> DarknetConfig {
        try DarknetConfig(text: weightsCfgText)
    }
}
