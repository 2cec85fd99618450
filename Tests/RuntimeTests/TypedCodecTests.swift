import Foundation
import Functions
import MSCRFunctions
import Runtime
import Testing

/// The codecs of typed functions: which body goes where, and the errors a client sees.
@Suite struct TypedCodecTests {
    enum Mode: String, Decodable { case fast, exact }

    struct Input: Decodable, Equatable {
        var image: EncodedImage
        var atLeast: Int?
        var ratio: Double
        var label: String?
        var strict: Bool?
        var mode: Mode?
    }

    struct QueryOnly: Decodable { var n: Int }

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]

    static func decode<T: Decodable>(
        _ type: T.Type, _ body: [UInt8], _ contentType: String?, _ query: [String: String] = [:]
    ) throws -> T {
        try TypedCodec.decode(T.self, from: FunctionRequest(body: body, contentType: contentType, query: query))
    }

    /// The error `body` throws, as the runtime's error.
    static func failure(_ body: () throws -> Any) -> FunctionError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? FunctionError
        }
    }

    @Test("an image body fills the image field; the query fills the rest, typed")
    func imageAndQuery() throws {
        let input = try Self.decode(
            Input.self, Self.png, "image/png",
            ["atLeast": "3", "ratio": "0.5", "label": "a b", "strict": "yes", "mode": "exact", "unused": "x"])
        #expect(
            input
                == Input(
                    image: EncodedImage(bytes: Self.png), atLeast: 3, ratio: 0.5, label: "a b", strict: true,
                    mode: .exact))
        let minimal = try Self.decode(Input.self, Self.png, nil, ["ratio": "1e-3"])
        #expect(minimal.atLeast == nil && minimal.strict == nil && minimal.ratio == 0.001)
    }

    @Test("a JSON body is decoded whole, the image as base64")
    func jsonBody() throws {
        let json = #"{"image": "\#(Data(Self.png).base64EncodedString())", "ratio": 2, "mode": "fast"}"#
        let input = try Self.decode(Input.self, Array(json.utf8), "application/json; charset=utf-8")
        #expect(input.image.bytes == Self.png && input.ratio == 2 && input.mode == .fast)
        let wrong = Self.failure {
            try Self.decode(Input.self, Array(#"{"image": "AAAA", "ratio": "x"}"#.utf8), "application/json")
        }
        #expect(wrong?.code == .invalidInput)
        #expect(wrong?.message == #""ratio" must be a number"#)
        let missing = Self.failure { try Self.decode(Input.self, Array(#"{"ratio": 1}"#.utf8), "application/json") }
        #expect(missing?.message == #""image" is required"#)
        let broken = Self.failure { try Self.decode(Input.self, Array("{".utf8), "application/json") }
        #expect(broken?.message == "the body is not valid JSON")
    }

    @Test(
        "a bad query value is a 400 naming the parameter and the value",
        arguments: [
            (["ratio": "x"], "query parameter 'ratio' must be a number, got 'x'"),
            (["ratio": "1", "atLeast": "2.5"], "query parameter 'atLeast' must be an integer, got '2.5'"),
            (["ratio": "1", "strict": "maybe"], "query parameter 'strict' must be true or false, got 'maybe'"),
            (["ratio": "inf"], "query parameter 'ratio' must be a number, got 'inf'"),
            ([:], "query parameter 'ratio' is required"),
        ])
    func badQuery(_ query: [String: String], _ message: String) {
        let error = Self.failure { try Self.decode(Input.self, Self.png, "image/png", query) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
    }

    @Test("a string-backed enum outside its cases is a 400 naming the field")
    func badEnum() {
        let error = Self.failure { try Self.decode(Input.self, Self.png, "image/png", ["ratio": "1", "mode": "slow"]) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("\"mode\"") == true, "\(error?.message ?? "no error")")
    }

    @Test("bodies the function does not take: 415 or 422")
    func refusedBodies() {
        #expect(
            Self.failure { try Self.decode(Input.self, Array("a,b".utf8), "text/csv") }?.code == .unsupportedMediaType)
        #expect(Self.failure { try Self.decode(Input.self, Array("text".utf8), "image/jpeg") }?.code == .unprocessable)
        #expect(
            Self.failure { try Self.decode(Input.self, Array("text".utf8), "application/octet-stream") }?.code
                == .unsupportedMediaType)
        #expect(
            Self.failure { try Self.decode(Input.self, Array("GIF89a....".utf8), "image/gif") }?.code
                == .unsupportedMediaType)
        // An image sent to a function whose input has no image field.
        #expect(
            Self.failure { try Self.decode(QueryOnly.self, Self.png, "image/png", ["n": "1"]) }?.code
                == .unsupportedMediaType)
        // No body and no image field: the query alone.
        #expect((try? Self.decode(QueryOnly.self, [], nil, ["n": "7"]))?.n == 7)
        let noImage = Self.failure { try Self.decode(Input.self, [], nil, ["ratio": "1"]) }
        #expect(noImage?.code == .invalidInput && noImage?.message.contains("'image'") == true)
    }

    @Test("the multipart 'file' part is the image")
    func multipart() throws {
        let body =
            Array("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".utf8) + Self.png
            + Array("\r\n--b--\r\n".utf8)
        let input = try Self.decode(Input.self, body, "multipart/form-data; boundary=b", ["ratio": "1"])
        #expect(input.image.bytes == Self.png)
        let other = Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc\r\n--b--\r\n".utf8)
        #expect(
            Self.failure { try Self.decode(Input.self, other, "multipart/form-data; boundary=b", ["ratio": "1"]) }?
                .message
                == "the multipart form has no 'file' part")
    }

    @Test("the output is JSON with sorted keys")
    func output() throws {
        struct Output: Encodable {
            var zeta = 1
            var alpha = "a/b"
            var mid = [1.5]
        }
        #expect(
            String(decoding: try TypedCodec.encode(Output()), as: UTF8.self) == #"{"alpha":"a/b","mid":[1.5],"zeta":1}"#
        )
    }

    @Test("a failure thrown by a function keeps its code on the way out")
    func failureMapping() {
        #expect(FunctionFailure.invalidInput("x").functionError.code == .invalidInput)
        #expect(FunctionFailure.unsupportedInput("x").functionError.code == .unsupportedMediaType)
        #expect(FunctionFailure.unprocessable("x").functionError.code == .unprocessable)
        #expect(FunctionFailure.unavailable("x").functionError.code == .unavailable)
        let original = FunctionError(.payloadTooLarge, "too big")
        #expect(FunctionFailure(original).functionError.code == .payloadTooLarge)
    }
}
