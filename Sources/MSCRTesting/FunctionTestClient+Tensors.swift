internal import Common
import FoundationEssentials
internal import HTTPTypes
internal import Hummingbird
internal import HummingbirdTesting
public import MSCRFunctions

extension FunctionTestClient where Function: TensorInterface {
    /// `POST /v2/models/<name>/infer` with `inputs`, as a client of the V2 protocol sends them:
    /// JSON (`BYTES` elements as base64 with `content_type: base64`), or with the binary tensor
    /// data extension when `binary` (inputs and outputs binary). `outputs` names the outputs to
    /// ask for (nil: all). The answer is decoded by this client, independently of the runtime's
    /// encoder.
    public func infer(
        _ inputs: [NamedTensor], parameters: [String: TensorParameter] = [:], outputs: [String]? = nil,
        binary: Bool = false
    ) async throws -> TensorTestResponse {
        let (body, headerLength) = TensorWire.request(inputs, parameters: parameters, outputs: outputs, binary: binary)
        var headers: HTTPFields = [.contentType: binary ? "application/octet-stream" : "application/json"]
        if let headerLength {
            headers[HTTPField.Name("Inference-Header-Content-Length")!] = String(headerLength)
        }
        let response = try await client.execute(
            uri: "/v2/models/\(name)/infer", method: .post, headers: headers, body: ByteBuffer(bytes: body))
        return TensorTestResponse(
            status: Int(response.status.code), body: Array(response.body.readableBytesView),
            headerLength: response.headers[HTTPField.Name("Inference-Header-Content-Length")!].flatMap { Int($0) })
    }

    /// `POST /v2/models/<name>/infer` with a body of your own (to test malformed requests).
    public func infer(body: [UInt8], headerLength: Int? = nil) async throws -> TensorTestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let headerLength {
            headers[HTTPField.Name("Inference-Header-Content-Length")!] = String(headerLength)
        }
        let response = try await client.execute(
            uri: "/v2/models/\(name)/infer", method: .post, headers: headers, body: ByteBuffer(bytes: body))
        return TensorTestResponse(
            status: Int(response.status.code), body: Array(response.body.readableBytesView),
            headerLength: response.headers[HTTPField.Name("Inference-Header-Content-Length")!].flatMap { Int($0) })
    }

    /// `GET /v2/models/<name>`: the model's tensors as V2 metadata reports them.
    public func tensorMetadata() async throws -> TensorTestMetadata {
        let response = try await client.execute(uri: "/v2/models/\(name)", method: .get, headers: [:], body: nil)
        let body = Array(response.body.readableBytesView)
        guard response.status == .ok else {
            throw FunctionFailure.internal(
                "GET /v2/models/\(name) answered \(response.status.code): \(String(decoding: body, as: UTF8.self))")
        }
        return try TensorWire.metadata(body)
    }
}

/// What `GET /v2/models/<name>` said.
public struct TensorTestMetadata: Sendable, Equatable {
    /// The model's name (the function's).
    public var name: String
    /// The repository versions, as strings.
    public var versions: [String]
    /// The platform (the function's kind).
    public var platform: String
    /// The inputs, in order.
    public var inputs: [TensorDescriptor]
    /// The outputs, in order.
    public var outputs: [TensorDescriptor]
}

/// A V2 infer answer as the client saw it.
public struct TensorTestResponse: Sendable {
    /// The HTTP status code.
    public let status: Int
    /// The raw body (JSON, then the binary section when ``headerLength`` is set).
    public let body: [UInt8]
    /// The `Inference-Header-Content-Length` header: the JSON's length in a binary answer.
    public let headerLength: Int?

    /// The outputs, decoded (JSON `data` or binary), when the call succeeded.
    public var outputs: [NamedTensor]? { try? TensorWire.outputs(body, headerLength: headerLength) }

    /// The output named `name`, when the call succeeded and returned it.
    public func output(_ name: String) -> NamedTensor? { outputs?.first { $0.name == name } }

    /// `model_version` of a successful answer.
    public var modelVersion: String? {
        (try? JSONValue.parse(body.prefix(headerLength ?? body.count)))?["model_version"]?.stringValue
    }

    /// The message of a failed call (`{"error": "…"}`), nil when the body is not that shape.
    public var error: String? {
        (try? JSONValue.parse(body))?["error"]?.stringValue
    }

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}
