import Foundation
import Functions
import HTTPTypes
import NIOCore
import SwiftProtobuf
import Testing

@testable import Runtime

@Suite("gRPC: message framing, grpc-timeout, status codes and trailers, h2c detection")
struct GRPCFramingTests {
    static func framed(_ message: [UInt8], flag: UInt8 = 0, length: Int? = nil) -> [UInt8] {
        let n = UInt32(length ?? message.count)
        return [flag, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + message
    }

    static func status(_ body: [UInt8], limit: Int = 100) -> GRPCStatus? {
        do {
            _ = try GRPCFraming.unaryMessage(body, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    @Test("one whole message is its payload; the frame written is the frame read")
    func roundTrip() throws {
        let message: [UInt8] = [8, 1, 0xFF, 0]
        let body = Array(GRPCFraming.frame(message).readableBytesView)
        #expect(body == Self.framed(message))
        #expect(Array(try GRPCFraming.unaryMessage(body, limit: 4)) == message)
        #expect(Array(try GRPCFraming.unaryMessage(Self.framed([]), limit: 0)) == [])
        // Independent check of the prefix: flag 0, big-endian length.
        let big = Array(GRPCFraming.frame([UInt8](repeating: 7, count: 0x01_0203)).readableBytesView)
        #expect(Array(big.prefix(5)) == [0, 0, 1, 2, 3])
    }

    @Test("every malformed body gets its own status, none traps")
    func malformedBodies() {
        #expect(Self.status([])?.code == .invalidArgument)
        #expect(Self.status([0, 0, 0])?.message.contains("cut off") == true)
        #expect(Self.status(Self.framed([1, 2], flag: 1))?.code == .unimplemented)
        #expect(Self.status(Self.framed([1, 2], flag: 7))?.code == .invalidArgument)
        #expect(Self.status(Self.framed([1, 2], length: 9))?.message.contains("says 9 bytes but 2 arrived") == true)
        #expect(Self.status(Self.framed([1, 2]) + Self.framed([3]))?.message.contains("more than one") == true)
        #expect(Self.status(Self.framed([UInt8](repeating: 0, count: 101)))?.code == .resourceExhausted)
        #expect(Self.status(Self.framed([], length: Int(UInt32.max)))?.code == .resourceExhausted)
        #expect(Self.status(Self.framed([1, 2, 3])) == nil)
    }

    @Test(
        "grpc-timeout: 1 to 8 digits and a unit",
        arguments: [
            ("100m", Duration.milliseconds(100)), ("2S", .seconds(2)), ("1H", .seconds(3600)), ("3M", .seconds(180)),
            ("250u", .microseconds(250)), ("99999999n", .nanoseconds(99_999_999)), ("0m", .zero),
        ])
    func timeouts(_ text: String, _ expected: Duration) {
        #expect(GRPCFraming.timeout(text) == expected)
    }

    @Test(
        "malformed grpc-timeout values are nil", arguments: ["", "S", "10", "123456789S", "10x", "-1S", "1.5S", "1 S"])
    func badTimeouts(_ text: String) {
        #expect(GRPCFraming.timeout(text) == nil)
    }

    @Test("errors map to the gRPC codes of their REST statuses")
    func codes() {
        let cases: [(FunctionError.Code, GRPCStatus.Code)] = [
            (.invalidInput, .invalidArgument), (.unsupportedMediaType, .invalidArgument),
            (.unprocessable, .invalidArgument), (.notFound, .notFound), (.payloadTooLarge, .resourceExhausted),
            (.overloaded, .resourceExhausted), (.unavailable, .unavailable), (.timeout, .deadlineExceeded),
            (.requestTimeout, .deadlineExceeded), (.unauthorized, .unauthenticated), (.internal, .internal),
        ]
        for (code, expected) in cases {
            #expect(GRPCStatus.from(FunctionError(code, "m")).code == expected, "\(code)")
        }
        #expect(GRPCStatus.from(FunctionError(.overloaded, "busy")).retryAfter == 1)
        #expect(GRPCStatus.from(CancellationError()).code == .unavailable)
        #expect(GRPCStatus.from(GRPCStatus(.unimplemented, "x")).code == .unimplemented)
    }

    @Test("trailers: status, percent-encoded message, and RetryInfo for shed load")
    func trailers() throws {
        let ok = GRPCStatus(.ok, "").trailers
        #expect(ok[GRPCStatus.statusName] == "0" && ok[GRPCStatus.messageName] == nil)
        let shed = GRPCStatus.from(FunctionError(.overloaded, "100% busy: é"))
        let fields = shed.trailers
        #expect(fields[GRPCStatus.statusName] == "8")
        #expect(fields[GRPCStatus.messageName] == "100%25 busy: %C3%A9")
        #expect(fields[.retryAfter] == "1")
        let encoded = try #require(fields[GRPCStatus.detailsName])
        let rich = try Google_Rpc_Status(serializedBytes: try #require(Data(base64Encoded: encoded)))
        #expect(rich.code == 8 && rich.message == "100% busy: é")
        let retry = try Google_Rpc_RetryInfo(unpackingAny: try #require(rich.details.first))
        #expect(retry.retryDelay.seconds == 1)
        #expect(GRPCStatus.from(FunctionError(.invalidInput, "bad")).trailers[GRPCStatus.detailsName] == nil)
    }

    @Test("the first bytes tell HTTP/2's preface from HTTP/1.1")
    func prefaceDetection() {
        typealias Detector = PrefaceDetector<Int>
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        #expect(Detector.isHTTP2(preface) == true)
        #expect(Detector.isHTTP2(preface + [0, 0, 0, 4]) == true)
        #expect(Detector.isHTTP2(preface.prefix(10)) == nil)
        #expect(Detector.isHTTP2([UInt8]()) == nil)
        #expect(Detector.isHTTP2(Array("GET / HTTP/1.1\r\n".utf8)) == false)
        #expect(Detector.isHTTP2(Array("POST /v2".utf8)) == false)
        #expect(Detector.isHTTP2(Array("PRI * HTTP/1.1\r\n\r\n".utf8)) == false)
        #expect(Detector.isHTTP2(Array("P".utf8)) == nil)
    }
}
