import Functions
import HTTPTypes
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2
import Tracing

/// Every frame of an h2c connection passes here, between `NIOHTTP2Handler` (and the connection
/// manager) and the stream multiplexer. A new stream whose first HEADERS frame is a gRPC call
/// to ``GRPCInferenceService`` (`POST /inference.GRPCInferenceService/…`, `content-type:
/// application/grpc…`) is answered here, on the connection's frames; every other stream's frames
/// go on to the multiplexer, whose child channels carry the REST requests to Hummingbird's router.
///
/// A gRPC call skips the child channel and its pipeline, the HTTP message types, the router, its
/// middlewares and the async channel a REST request needs (most of what made a gRPC call cost
/// more CPU than a REST call over HTTP/1.1): the message is gathered on the event loop, the
/// method runs in one task, and the response goes out as three frames (headers, the framed
/// message, the trailers) in one flush. The stream's inbound window is given back here as its
/// DATA frames arrive (the multiplexer's child channels do that for their streams); the
/// connection's window stays with the multiplexer, which sees every window event.
final class GRPCCallsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// One gRPC stream's state, from its HEADERS frame to its `StreamClosedEvent`.
    private final class Stream {
        enum State {
            /// Gathering the request message (`tooLarge`: past the limit, bytes only counted).
            case receiving(GRPCCall, received: Int, tooLarge: Bool)
            case running
            case done
        }
        var state: State
        /// The request body so far, reserved for the whole message once its length prefix has
        /// arrived (no regrowth, no copy into an array at the end).
        var body: [UInt8] = []
        var bodyTimer: Scheduled<Void>?
        var task: Task<Void, Never>?
        /// Flow-controlled bytes received and not yet given back to the client's stream window.
        var unacknowledged = 0
        /// Whether the client has ended its side (END_STREAM seen).
        var inputEnded = false

        init(_ call: GRPCCall) { state = .receiving(call, received: 0, tooLarge: false) }

        func cancel() {
            bodyTimer?.cancel()
            task?.cancel()
            state = .done
        }
    }

    private let responder: GRPCStreamResponder
    /// The inbound window each stream is kept at: a WINDOW_UPDATE goes out once half of it is used.
    private let targetWindowSize: Int
    private var streams: [HTTP2StreamID: Stream] = [:]
    /// Client streams are numbered upwards: a HEADERS frame above this opens a new stream.
    private var lastStreamID = HTTP2StreamID.rootStream
    private var flushPending = false

    init(responder: GRPCStreamResponder, targetWindowSize: Int) {
        self.responder = responder
        self.targetWindowSize = targetWindowSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let stream = streams[frame.streamID] {
            return receive(frame.payload, on: stream, id: frame.streamID, context: context)
        }
        if frame.streamID > lastStreamID, case .headers(let headers) = frame.payload {
            lastStreamID = frame.streamID
            if let call = GRPCCall(headers.headers) {
                let stream = Stream(call)
                streams[frame.streamID] = stream
                return start(stream, id: frame.streamID, endStream: headers.endStream, context: context)
            }
        }
        context.fireChannelRead(data)
    }

    private func receive(
        _ payload: HTTP2Frame.FramePayload, on stream: Stream, id: HTTP2StreamID, context: ChannelHandlerContext
    ) {
        switch payload {
        case .data(let frame):
            if frame.endStream {
                stream.inputEnded = true
            } else {
                giveBack(frame.data.readableBytes + (frame.paddingBytes ?? 0), stream, id, context)
            }
            guard case .receiving(let call, var received, var tooLarge) = stream.state,
                case .byteBuffer(let bytes) = frame.data
            else { return }
            received += bytes.readableBytes
            if received > responder.bodyLimit {
                tooLarge = true
                stream.body = []
            } else {
                let hadPrefix = stream.body.count >= 5
                bytes.withUnsafeReadableBytes { stream.body.append(contentsOf: $0) }
                if !hadPrefix, stream.body.count >= 5 {
                    // The message's length (the prefix's bytes 1–4), capped at the limit: the
                    // body's size when it is whole.
                    let length = stream.body[1..<5].reduce(0) { $0 << 8 | Int($1) }
                    stream.body.reserveCapacity(min(5 + length, responder.bodyLimit))
                }
            }
            stream.state = .receiving(call, received: received, tooLarge: tooLarge)
            if frame.endStream || received > responder.discardLimit { requestEnded(stream, id: id, context: context) }
        case .headers(let trailers):
            guard trailers.endStream else { return }
            stream.inputEnded = true
            requestEnded(stream, id: id, context: context)
        default:
            break
        }
    }

    /// Gives a stream's received bytes back to its window once half of the window is used, so
    /// a message larger than the window keeps coming (the WINDOW_UPDATE is flushed when the read ends).
    private func giveBack(_ bytes: Int, _ stream: Stream, _ id: HTTP2StreamID, _ context: ChannelHandlerContext) {
        stream.unacknowledged += bytes
        guard stream.unacknowledged >= targetWindowSize / 2 else { return }
        let increment = stream.unacknowledged
        stream.unacknowledged = 0
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: increment))),
            promise: nil)
        flushPending = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closed = event as? StreamClosedEvent, let stream = streams.removeValue(forKey: closed.streamID) {
            stream.cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for stream in streams.values { stream.cancel() }
        streams = [:]
        context.fireChannelInactive()
    }

    private func start(_ stream: Stream, id: HTTP2StreamID, endStream: Bool, context: ChannelHandlerContext) {
        guard case .receiving(var call, _, _) = stream.state else { return }
        stream.inputEnded = endStream
        do {
            call.deadline = try GRPCInferenceService.deadline(encoding: call.encoding, timeout: call.timeout)
        } catch {
            stream.state = .done
            return write(.failure(error), on: stream, id: id, context: context)
        }
        stream.state = .receiving(call, received: 0, tooLarge: false)
        if endStream { return requestEnded(stream, id: id, context: context) }
        let timeout = responder.service.bodyTimeout(call.deadline)
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        stream.bodyTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
            guard case .receiving = stream.state else { return }
            stream.state = .done
            self.write(
                .failure(
                    GRPCStatus.from(
                        FunctionError(
                            .requestTimeout,
                            "the request body did not arrive within \(timeout.components.seconds) s (MSCR_BODY_TIMEOUT)"
                        ))), on: stream, id: id, context: context)
        }
    }

    private func requestEnded(_ stream: Stream, id: HTTP2StreamID, context: ChannelHandlerContext) {
        guard case .receiving(let call, let received, let tooLarge) = stream.state else { return }
        stream.bodyTimer?.cancel()
        stream.bodyTimer = nil
        if tooLarge {
            stream.state = .done
            let limit = responder.bodyLimit - 5
            return write(
                .failure(
                    GRPCStatus(
                        .resourceExhausted,
                        "the request message of \(received - 5) bytes exceeds the limit of \(limit) bytes")),
                on: stream, id: id, context: context)
        }
        stream.state = .running
        let responder = self.responder
        let bytes = stream.body
        stream.body = []
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((self, context, stream), eventLoop: eventLoop)
        stream.task = Task {
            let reply = await responder.respond(call, body: bytes)
            eventLoop.execute {
                let (handler, context, stream) = bound.value
                guard case .running = stream.state else { return }
                stream.state = .done
                stream.task = nil
                handler.write(reply, on: stream, id: id, context: context)
            }
        }
    }

    /// The response: headers, the message, the trailers (or the trailers alone for a failure),
    /// in one flush. A response before the client has sent all of its request (a refused or
    /// late body, a bad `grpc-timeout`) is followed by RST_STREAM with NO_ERROR, which tells the
    /// client to stop sending (RFC 9113, 8.1) and closes the stream: a stalled client does not
    /// keep it, nor its connection, open.
    private func write(_ reply: GRPCReply, on stream: Stream, id: HTTP2StreamID, context: ChannelHandlerContext) {
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
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers)))), promise: nil)
            context.write(
                wrapOutboundOut(
                    HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(GRPCFraming.frame(message)))))),
                promise: nil)
            context.write(
                wrapOutboundOut(
                    HTTP2Frame(streamID: id, payload: .headers(.init(headers: Self.okTrailers, endStream: true)))),
                promise: nil)
        case .failure(let status):
            for field in status.trailers { headers.add(name: field.name.canonicalName, value: field.value) }
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: true)))),
                promise: nil)
        }
        if !stream.inputEnded {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .rstStream(.noError))), promise: nil)
        }
        context.flush()
    }

    /// The trailers of every successful call, built once.
    static let okTrailers: HPACKHeaders = {
        var headers = HPACKHeaders()
        for field in GRPCStatus(.ok, "").trailers { headers.add(name: field.name.canonicalName, value: field.value) }
        return headers
    }()
}

/// One gRPC call as its HEADERS frame gives it.
package struct GRPCCall: Sendable {
    package var method: String
    package var encoding: String?
    package var timeout: String?
    package var trace: RequestTracing.Headers
    var deadline: ContinuousClock.Instant?

    /// nil when the headers are not a gRPC call to the inference service. One pass over the
    /// fields (HTTP/2 names are lower-case); the first value of a repeated field counts, except
    /// for the trace headers, read as every transport reads them (``RequestTracing/Headers``).
    package init?(_ headers: HPACKHeaders) {
        var path: String?
        var verb: String?
        var contentType: String?
        var trace = RequestTracing.Headers(traceparent: nil)
        for (name, value, _) in headers {
            switch name {
            case ":path": path = path ?? value
            case ":method": verb = verb ?? value
            case "content-type": contentType = contentType ?? value
            case "grpc-encoding": encoding = encoding ?? value
            case "grpc-timeout": timeout = timeout ?? value
            default: trace.take(name: name, value: value)
            }
        }
        guard let path, path.hasPrefix(GRPCInferenceService.path + "/"), verb == "POST",
            contentType?.hasPrefix("application/grpc") == true
        else { return nil }
        method = String(path.dropFirst(GRPCInferenceService.path.count + 1))
        self.trace = trace
    }
}

/// What a call answers: the reply message and extra headers, or the status of its failure.
enum GRPCReply: Sendable {
    case ok([UInt8], HTTPFields)
    case failure(GRPCStatus)
}

/// Runs the calls ``GRPCCallsHandler`` gathers: the server span (when tracing is on, as the
/// REST middleware makes one per request), the log lines' trace, the request counter the REST
/// middleware keeps for the route, and every error as the call's status.
struct GRPCStreamResponder: Sendable {
    let service: GRPCInferenceService
    let metrics: RuntimeMetrics
    /// The tracer of the server spans; nil when tracing is off.
    let tracer: RequestTracing.ServerTracer?
    let logger: Logger

    init(service: GRPCInferenceService, metrics: RuntimeMetrics, tracing: Bool, logger: Logger) {
        self.service = service
        self.metrics = metrics
        self.tracer = tracing ? RequestTracing.ServerTracer(service.v2.host.settings.tracer) : nil
        self.logger = logger
    }

    /// The largest request body kept: one framed message of the largest function limit.
    var bodyLimit: Int { service.maxMessageBytes + 5 }
    /// How far past ``bodyLimit`` a refused body is still read (and dropped) before the call is
    /// answered, as for REST bodies.
    var discardLimit: Int { max(bodyLimit, 16 << 20) }

    /// `rpc.service` of the server spans.
    static let serviceName = String(GRPCInferenceService.path.dropFirst())

    func respond(_ call: GRPCCall, body: [UInt8]) async -> GRPCReply {
        let reply: GRPCReply
        if let tracer {
            // `service/method` (the OpenTelemetry RPC conventions); unknown methods share one name.
            let method = GRPCInferenceService.methods.contains(call.method) ? call.method : "unknown"
            let name = "\(GRPCInferenceService.path.dropFirst())/\(method)"
            reply =
                (try? await RequestTracing.withServerSpan(
                    name, headers: call.trace, tracer: tracer, logger: logger
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
