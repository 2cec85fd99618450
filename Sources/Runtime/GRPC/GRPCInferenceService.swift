import Functions
import HTTPTypes
import Hummingbird
import Logging
import SwiftProtobuf

/// The gRPC V2 inference service (`inference.GRPCInferenceService` of KServe and Triton),
/// served as routes of the one HTTP router (`POST /inference.GRPCInferenceService/{method}`,
/// which over HTTP/2 is a gRPC call): each method is a thin adapter over `V2Service`, the
/// layer REST V2 uses, so both protocols answer the same models with the same checks,
/// admission, deadlines, cold-start accounting and errors. Why not grpc-swift's transport:
/// docs/design.md, "gRPC V2 on the REST port".
struct GRPCInferenceService: Sendable {
    static let path = "/inference.GRPCInferenceService"
    static let methods = ["ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer"]
    static let timeoutName = HTTPField.Name("grpc-timeout")!
    static let encodingName = HTTPField.Name("grpc-encoding")!
    static let acceptEncodingName = HTTPField.Name("grpc-accept-encoding")!

    let v2: V2Service
    /// The largest request message (the largest `max_body_bytes` of the functions): more is
    /// RESOURCE_EXHAUSTED before it is kept; each function's own limit is checked on the call.
    let maxMessageBytes: Int

    /// One call: content type, encoding and `grpc-timeout` first, then the one framed message,
    /// then the method; every error becomes the call's status in the trailers. (Over h2c,
    /// `GRPCCallsHandler` answers calls without this route; this serves the rest.)
    func handle(_ request: Request, method: String, logger: Logger) async -> Response {
        guard let type = request.headers[.contentType], type.hasPrefix("application/grpc") else {
            return Response(
                status: .unsupportedMediaType, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "a gRPC call needs content-type application/grpc\n")))
        }
        do {
            let deadline = try Self.deadline(
                encoding: request.headers[Self.encodingName], timeout: request.headers[Self.timeoutName])
            let body = try await HTTPBody.collect(request, limit: maxMessageBytes + 5, timeout: bodyTimeout(deadline))
            let (reply, headers) = try await respond(method, body: body, deadline: deadline, logger: logger)
            return Self.ok(reply, headers: headers)
        } catch {
            return Self.failure(GRPCStatus.from(error))
        }
    }

    /// The call's deadline from its `grpc-timeout`; refuses any `grpc-encoding` but identity.
    static func deadline(encoding: String?, timeout: String?) throws(GRPCStatus) -> ContinuousClock.Instant? {
        if let encoding, encoding != "identity" {
            throw GRPCStatus(.unimplemented, "grpc-encoding '\(encoding)' is not supported (identity only)")
        }
        guard let text = timeout else { return nil }
        guard let timeout = GRPCFraming.timeout(text) else {
            throw GRPCStatus(
                .invalidArgument, "grpc-timeout '\(text)' is not 1 to 8 digits and a unit (H, M, S, m, u, n)")
        }
        return ContinuousClock.now + timeout
    }

    /// How long the request message may take to arrive: `MSCR_BODY_TIMEOUT`, or less when the
    /// call's deadline is sooner.
    func bodyTimeout(_ deadline: ContinuousClock.Instant?) -> Duration {
        min(v2.bodyTimeout, deadline.map { max(.zero, $0 - ContinuousClock.now) } ?? v2.bodyTimeout)
    }

    /// Runs one method on the call's whole body (one framed message): the reply message and
    /// extra response headers.
    func respond(_ method: String, body: [UInt8], deadline: ContinuousClock.Instant?, logger: Logger) async throws
        -> ([UInt8], HTTPFields)
    {
        let message = try GRPCFraming.unaryMessage(body, limit: maxMessageBytes)
        return try await call(method, message: message, deadline: deadline, logger: logger)
    }

    /// Runs one method on its decoded request: the reply message and extra response headers.
    func call(_ method: String, message: ArraySlice<UInt8>, deadline: ContinuousClock.Instant?, logger: Logger)
        async throws -> ([UInt8], HTTPFields)
    {
        switch method {
        case "ServerLive":
            _ = try Self.decode(Inference_ServerLiveRequest.self, message)
            return (try Self.bytes(Inference_ServerLiveResponse.with { $0.live = true }), [:])
        case "ServerReady":
            _ = try Self.decode(Inference_ServerReadyRequest.self, message)
            return (try Self.bytes(Inference_ServerReadyResponse.with { $0.ready = true }), [:])
        case "ServerMetadata":
            _ = try Self.decode(Inference_ServerMetadataRequest.self, message)
            let reply = Inference_ServerMetadataResponse.with {
                $0.name = V2Service.serverName
                $0.version = V2Service.serverVersion
                $0.extensions = V2Service.extensions
            }
            return (try Self.bytes(reply), [:])
        case "ModelReady":
            let request = try Self.decode(Inference_ModelReadyRequest.self, message)
            let notReady = try await v2.readiness(name: request.name, version: Self.version(request.version))
            return (try Self.bytes(Inference_ModelReadyResponse.with { $0.ready = notReady == nil }), [:])
        case "ModelMetadata":
            let request = try Self.decode(Inference_ModelMetadataRequest.self, message)
            let m = try await v2.metadata(name: request.name, version: Self.version(request.version))
            let reply = Inference_ModelMetadataResponse.with {
                $0.name = m.name
                $0.versions = m.versions
                $0.platform = m.platform
                $0.inputs = m.inputs.map(Self.metadata)
                $0.outputs = m.outputs.map(Self.metadata)
            }
            return (try Self.bytes(reply), [:])
        case "ModelInfer":
            let request = try GRPCInferRequest.message(message)
            let name = request.modelName
            let timeout = deadline.map { max(.zero, $0 - ContinuousClock.now) }
            return try await v2.infer(
                name: name, version: Self.version(request.modelVersion), timeout: timeout, logger: logger,
                decode: { config in
                    // The function's body limit, before any decoding (as REST's body read).
                    let limit = config.limits.maxBodyBytes
                    guard message.count <= limit else {
                        throw FunctionError(
                            .payloadTooLarge,
                            "the request message of \(message.count) bytes exceeds the limit of \(limit) bytes for '\(name)'"
                        )
                    }
                    return (try GRPCInferRequest.decode(request), message.count)
                },
                encode: { decoded, answer in
                    let reply = try GRPCInferResponse.message(model: name, request: decoded, answer: answer)
                    return (try Self.bytes(reply), [HeaderNames.serverTiming: answer.timing.headerValue])
                })
        default:
            throw GRPCStatus(
                .unimplemented,
                "mscr does not serve inference.GRPCInferenceService/\(method) (it serves \(Self.methods.joined(separator: ", ")))"
            )
        }
    }

    /// A request message; bytes that are not one are an invalid argument.
    static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ bytes: ArraySlice<UInt8>) throws -> M {
        do {
            return try M(serializedBytes: MessageBytes(bytes))
        } catch {
            throw FunctionError(.invalidInput, "the request is not a valid \(M.protoMessageName) (\(error))")
        }
    }

    /// A message's wire bytes.
    static func bytes(_ message: some SwiftProtobuf.Message) throws -> [UInt8] { try message.serializedBytes() }

    /// A request's `version`: empty is the serving version.
    static func version(_ text: String) -> String? { text.isEmpty ? nil : text }

    static func metadata(_ spec: TensorSpec) -> Inference_ModelMetadataResponse.TensorMetadata {
        .with {
            $0.name = spec.name
            $0.datatype = spec.datatype.rawValue
            $0.shape = spec.shape.map { Int64($0) }
        }
    }

    /// A successful call: the framed reply, then `grpc-status: 0`.
    static func ok(_ message: [UInt8], headers extra: HTTPFields) -> Response {
        var headers: HTTPFields = [.contentType: "application/grpc", acceptEncodingName: "identity"]
        headers.append(contentsOf: extra)
        let frame = GRPCFraming.frame(message)
        let trailers = GRPCStatus(.ok, "").trailers
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(frame)
                try await writer.finish(trailers)
            })
    }

    /// A failed call: no message, the status in the trailers (HTTP status 200, as gRPC wants).
    static func failure(_ status: GRPCStatus) -> Response {
        let trailers = status.trailers
        return Response(
            status: .ok, headers: [.contentType: "application/grpc", acceptEncodingName: "identity"],
            body: ResponseBody { writer in try await writer.finish(trailers) })
    }
}

extension MSCRServer {
    /// The gRPC service: the one V2 layer, and the largest `max_body_bytes` of the functions as
    /// the message limit.
    func makeGRPCService() -> GRPCInferenceService {
        let v2 = V2Service(host: host, metrics: metrics, bodyTimeout: configuration.bodyTimeout)
        let largest = host.names.compactMap { host.config($0)?.limits.maxBodyBytes }.max() ?? (4 << 20)
        return GRPCInferenceService(v2: v2, maxMessageBytes: largest)
    }

    /// `POST /inference.GRPCInferenceService/{method}`: the gRPC V2 service (over HTTP/2).
    func addGRPCRoutes(to router: Router<BasicRequestContext>) {
        let service = makeGRPCService()
        router.post("\(GRPCInferenceService.path)/:method") { request, context in
            await service.handle(request, method: context.parameters.get("method") ?? "", logger: context.logger)
        }
    }
}

/// A request's message as swift-protobuf reads it: straight from its slice of the body (no
/// copy into an array).
struct MessageBytes: SwiftProtobufContiguousBytes {
    var slice: ArraySlice<UInt8>

    init(_ slice: ArraySlice<UInt8>) { self.slice = slice }
    init(repeating: UInt8, count: Int) { slice = ArraySlice(repeating: repeating, count: count) }
    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 { slice = ArraySlice(sequence) }
    var count: Int { slice.count }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try slice.withUnsafeBytes(body)
    }
    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try slice.withUnsafeMutableBytes(body)
    }
}
