import Functions
import HTTPTypes
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2
import Tracing

/// The first handler of every h2c stream. Its first HEADERS frame decides: a gRPC call to
/// ``GRPCInferenceService`` (`POST /inference.GRPCInferenceService/…`, `content-type:
/// application/grpc…`) is answered here, on the stream's HTTP/2 frames; anything else gets
/// the HTTP codec and an async channel (``handOver``) for Hummingbird's router, and this handler
/// leaves the pipeline.
///
/// A gRPC call skips the HTTP message types, the router, its middlewares and the async channel a
/// REST request needs (most of what made a gRPC call cost more CPU than a REST call over
/// HTTP/1.1): the message is gathered on the event loop, the method runs in one task, and the
/// response goes out as three frames (headers, the framed message, the trailers) in one flush.
final class GRPCStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    typealias RESTStream = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    private enum State {
        case waitingForHeaders
        /// Gathering the request message (`tooLarge`: past the limit, bytes only counted).
        case receiving(GRPCCall, body: ByteBuffer, received: Int, tooLarge: Bool)
        case running
        case done
    }

    private let responder: GRPCStreamResponder
    private let handOver: (RESTStream) -> Void
    private var state = State.waitingForHeaders
    private var bodyTimer: Scheduled<Void>?
    private var task: Task<Void, Never>?

    init(responder: GRPCStreamResponder, handOver: @escaping (RESTStream) -> Void) {
        self.responder = responder
        self.handOver = handOver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch (state, payload) {
        case (.waitingForHeaders, .headers(let headers)):
            guard let call = GRPCCall(headers.headers) else { return passOn(context: context, data: data) }
            start(call, endStream: headers.endStream, context: context)
        case (.receiving(let call, var body, var received, var tooLarge), .data(let frame)):
            state = .done  // for the moment: `body` is then the buffer's only reference, appended in place
            if case .byteBuffer(var bytes) = frame.data {
                received += bytes.readableBytes
                if received > responder.bodyLimit {
                    tooLarge = true
                    body = ByteBuffer()
                } else {
                    body.writeBuffer(&bytes)
                }
            }
            state = .receiving(call, body: body, received: received, tooLarge: tooLarge)
            if frame.endStream || received > responder.discardLimit { requestEnded(context: context) }
        case (.receiving, .headers(let trailers)):
            if trailers.endStream { requestEnded(context: context) }
        default:
            break
        }
    }

    /// Not a gRPC call: the HTTP codec and an async channel after this handler, the HEADERS
    /// frame passed on to them, this handler gone.
    private func passOn(context: ChannelHandlerContext, data: NIOAny) {
        state = .done
        do {
            let sync = context.pipeline.syncOperations
            try sync.addHandler(HTTP2FramePayloadToHTTPServerCodec())
            let stream = try RESTStream(wrappingChannelSynchronously: context.channel)
            context.fireChannelRead(data)
            sync.removeHandler(context: context, promise: nil)
            handOver(stream)
        } catch {
            context.close(promise: nil)
        }
    }

    private func start(_ call: GRPCCall, endStream: Bool, context: ChannelHandlerContext) {
        let deadline: ContinuousClock.Instant?
        do {
            deadline = try GRPCInferenceService.deadline(encoding: call.encoding, timeout: call.timeout)
        } catch {
            state = .done
            return write(.failure(error), context: context)
        }
        var call = call
        call.deadline = deadline
        state = .receiving(call, body: ByteBuffer(), received: 0, tooLarge: false)
        if endStream { return requestEnded(context: context) }
        let timeout = responder.service.bodyTimeout(deadline)
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        bodyTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
            guard case .receiving = self.state else { return }
            self.state = .done
            self.write(
                .failure(
                    GRPCStatus.from(
                        FunctionError(
                            .requestTimeout,
                            "the request body did not arrive within \(timeout.components.seconds) s (MSCR_BODY_TIMEOUT)"
                        ))), context: context)
        }
    }

    private func requestEnded(context: ChannelHandlerContext) {
        guard case .receiving(let call, let body, let received, let tooLarge) = state else { return }
        bodyTimer?.cancel()
        bodyTimer = nil
        if tooLarge {
            state = .done
            let limit = responder.bodyLimit - 5
            return write(
                .failure(
                    GRPCStatus(
                        .resourceExhausted,
                        "the request message of \(received - 5) bytes exceeds the limit of \(limit) bytes")),
                context: context)
        }
        state = .running
        let responder = self.responder
        let bytes = Array(body.readableBytesView)
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: eventLoop)
        task = Task {
            let reply = await responder.respond(call, body: bytes)
            eventLoop.execute {
                let (handler, context) = bound.value
                guard case .running = handler.state else { return }
                handler.state = .done
                handler.write(reply, context: context)
            }
        }
    }

    /// The response: headers, the message, the trailers (or the trailers alone for a failure),
    /// in one flush.
    private func write(_ reply: GRPCReply, context: ChannelHandlerContext) {
        var headers: HPACKHeaders = [
            ":status": "200", "content-type": "application/grpc", "grpc-accept-encoding": "identity",
        ]
        switch reply {
        case .ok(let message, let extra):
            for field in extra {
                // A value new in every response (`Server-Timing`) kept out of the HPACK
                // dynamic tables: indexing it evicted an entry per response on both sides.
                headers.add(
                    name: field.name.canonicalName, value: field.value,
                    indexing: field.name == HeaderNames.serverTiming ? .nonIndexable : .indexable)
            }
            context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(GRPCFraming.frame(message))))), promise: nil)
            context.writeAndFlush(
                wrapOutboundOut(.headers(.init(headers: Self.okTrailers, endStream: true))), promise: nil)
        case .failure(let status):
            for field in status.trailers { headers.add(name: field.name.canonicalName, value: field.value) }
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
        }
    }

    /// The trailers of every successful call, built once.
    static let okTrailers: HPACKHeaders = {
        var headers = HPACKHeaders()
        for field in GRPCStatus(.ok, "").trailers { headers.add(name: field.name.canonicalName, value: field.value) }
        return headers
    }()

    func channelInactive(context: ChannelHandlerContext) {
        bodyTimer?.cancel()
        task?.cancel()
        state = .done
        context.fireChannelInactive()
    }
}

/// One gRPC call as its HEADERS frame gives it.
struct GRPCCall: Sendable {
    var method: String
    var encoding: String?
    var timeout: String?
    var trace: RequestTracing.Headers
    var deadline: ContinuousClock.Instant?

    /// nil when the headers are not a gRPC call to the inference service.
    init?(_ headers: HPACKHeaders) {
        guard let path = headers.first(name: ":path"), path.hasPrefix(GRPCInferenceService.path + "/"),
            headers.first(name: ":method") == "POST",
            headers.first(name: "content-type")?.hasPrefix("application/grpc") == true
        else { return nil }
        method = String(path.dropFirst(GRPCInferenceService.path.count + 1))
        encoding = headers.first(name: "grpc-encoding")
        timeout = headers.first(name: "grpc-timeout")
        trace = RequestTracing.Headers(
            traceparent: headers.first(name: "traceparent"), tracestate: headers.first(name: "tracestate"),
            cloudTrace: headers.first(name: "x-cloud-trace-context"))
    }
}

/// What a call answers: the reply message and extra headers, or the status of its failure.
enum GRPCReply: Sendable {
    case ok([UInt8], HTTPFields)
    case failure(GRPCStatus)
}

/// Runs the calls ``GRPCStreamHandler`` gathers: the server span (when tracing is on, as the
/// REST middleware makes one per request), the log lines' trace, the request counter the REST
/// middleware keeps for the route, and every error as the call's status.
struct GRPCStreamResponder: Sendable {
    let service: GRPCInferenceService
    let metrics: RuntimeMetrics
    let tracing: Bool
    let logger: Logger

    /// The largest request body kept: one framed message of the largest function limit.
    var bodyLimit: Int { service.maxMessageBytes + 5 }
    /// How far past ``bodyLimit`` a refused body is still read (and dropped) before the call is
    /// answered, as for REST bodies.
    var discardLimit: Int { max(bodyLimit, 16 << 20) }

    /// `rpc.service` of the server spans.
    static let serviceName = String(GRPCInferenceService.path.dropFirst())

    func respond(_ call: GRPCCall, body: [UInt8]) async -> GRPCReply {
        let reply: GRPCReply
        if tracing {
            // `service/method` (the OpenTelemetry RPC conventions); unknown methods share one name.
            let method = GRPCInferenceService.methods.contains(call.method) ? call.method : "unknown"
            let name = "\(GRPCInferenceService.path.dropFirst())/\(method)"
            reply =
                (try? await RequestTracing.withServerSpan(
                    name, headers: call.trace, tracer: service.v2.host.settings.tracer, logger: logger
                ) { span, logger in
                    let reply = await run(call, body: body, logger: logger)
                    if span.isRecording {
                        var a = RequestAttributes(rpcService: Self.serviceName, rpcMethod: method)
                        switch reply {
                        case .ok: a.grpcStatus = 0
                        case .failure(let status):
                            a.grpcStatus = status.code.rawValue
                            // The server's failures (the RPC conventions), not the caller's.
                            if [.deadlineExceeded, .unimplemented, .internal, .unavailable].contains(status.code) {
                                span.setStatus(SpanStatus(code: .error, message: status.message))
                            }
                        }
                        RequestTracing.record(a, on: span)
                    }
                    return reply
                }) ?? .failure(GRPCStatus(.internal, "the call's span failed"))
        } else {
            var logger = self.logger
            if let trace = TraceContext.parse(cloudTrace: call.trace.cloudTrace, traceparent: call.trace.traceparent) {
                logger[metadataKey: "trace"] = .string(trace.traceID)
                if let span = trace.spanID { logger[metadataKey: "span"] = .string(span) }
            }
            reply = await run(call, body: body, logger: logger)
        }
        metrics.recordOther(route: "other", status: 200)
        return reply
    }

    private func run(_ call: GRPCCall, body: [UInt8], logger: Logger) async -> GRPCReply {
        do {
            let (message, headers) = try await service.respond(
                call.method, body: body, deadline: call.deadline, logger: logger)
            return .ok(message, headers)
        } catch {
            return .failure(GRPCStatus.from(error))
        }
    }
}
