import NIOCore

/// The gRPC message framing over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
/// each message is a 1-byte compressed flag, a 4-byte big-endian length and the message bytes.
/// Every method of the inference service is unary: a request body is exactly one message.
enum GRPCFraming {
    /// The message of a unary request body. Compressed messages are refused (mscr announces
    /// only `identity` in `grpc-accept-encoding`); a body that is not exactly one whole message
    /// is an invalid argument.
    static func unaryMessage(_ body: [UInt8], limit: Int) throws(GRPCStatus) -> ArraySlice<UInt8> {
        guard body.count >= 5 else {
            throw GRPCStatus(
                .invalidArgument,
                body.isEmpty
                    ? "the request has no message (a unary call carries one)"
                    : "the request's message prefix is cut off after \(body.count) bytes")
        }
        switch body[0] {
        case 0: break
        case 1:
            throw GRPCStatus(.unimplemented, "compressed messages are not supported (grpc-accept-encoding: identity)")
        default: throw GRPCStatus(.invalidArgument, "the message's compressed flag is \(body[0]), not 0 or 1")
        }
        let length = Int(body[1]) << 24 | Int(body[2]) << 16 | Int(body[3]) << 8 | Int(body[4])
        guard length <= limit else {
            throw GRPCStatus(
                .resourceExhausted, "the request message of \(length) bytes exceeds the limit of \(limit) bytes")
        }
        guard length <= body.count - 5 else {
            throw GRPCStatus(
                .invalidArgument, "the request message says \(length) bytes but \(body.count - 5) arrived")
        }
        guard length == body.count - 5 else {
            throw GRPCStatus(
                .invalidArgument, "the request holds more than one message (a unary call carries one)")
        }
        return body[5...]
    }

    /// One framed, uncompressed message.
    static func frame(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.count + 5)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        return buffer
    }

    /// `grpc-timeout`: 1 to 8 ASCII digits and a unit (H, M, S, m, u, n); nil when malformed.
    static func timeout(_ value: String) -> Duration? {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, bytes.count <= 9, let unit = bytes.last else { return nil }
        var amount: Int64 = 0
        for digit in bytes.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }
}
