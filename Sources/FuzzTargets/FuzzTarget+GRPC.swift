import Runtime

extension FuzzTarget {
    /// The gRPC target: the first byte picks the input's form, 0 for a bare `ModelInferRequest`
    /// message, anything else for a whole request body (the 5-byte gRPC frame, then the message).
    static func runGRPC(_ data: [UInt8]) throws {
        if data.first == 0 {
            try GRPCRequestParser.decode(message: Array(data.dropFirst()))
        } else {
            try GRPCRequestParser.decode(body: Array(data.dropFirst()))
        }
    }

    /// Valid inputs of the gRPC target: stock's window as typed and as raw contents, detect's
    /// image as BYTES (bare and framed).
    package static var grpcSeeds: [[UInt8]] {
        GRPCRequestParser.exampleMessages.flatMap { message in
            [[0] + message, [1] + GRPCRequestParser.framed(message)]
        }
    }
}
