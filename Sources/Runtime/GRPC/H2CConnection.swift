import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2

/// An HTTP/2 connection (prior knowledge): gRPC calls to the inference service are answered on
/// the connection's frames by `GRPCCallsHandler`; every other stream gets a child channel from
/// the stream multiplexer and is answered by the router like an HTTP/1.1 request. Built here rather than with HummingbirdHTTP2's `HTTP2Channel` for the
/// gRPC streams and for one setting: gRPC clients (grpcio, Triton's) send a bandwidth-probe PING
/// with many calls, and NIO's default limit of 200 control frames per 30 s closed their
/// connection after about a thousand calls ("Stream removed"). Connection lifetime (idle close,
/// graceful close with GOAWAY on SIGTERM, then `graceTime` for the streams in flight) is NIO's
/// `NIOHTTP2ServerConnectionManagementHandler`.
struct H2CConnection: HTTPChannelHandler {
    /// A REST request's stream, for Hummingbird's router.
    typealias RESTStream = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// The connection and its REST streams (each once its first HEADERS frame has shown it is
    /// not a gRPC call).
    struct Value: ServerChildChannelValue {
        let restStreams: AsyncStream<RESTStream>
        let channel: any Channel
    }

    /// Control frames (PING, SETTINGS, PRIORITY…) a client may send per second before the
    /// connection is closed as a flood: far above any client's probing, far below a flood.
    static let controlFramesPerSecond = 2000

    /// The inbound flow-control window of each stream (announced in SETTINGS) and the one the
    /// connection is kept at: a request body up to this size (a detect image) is sent at once.
    /// With HTTP/2's default of 64 KiB a 164 KB image waited for two WINDOW_UPDATE round trips,
    /// each a wake-up on both sides. A gRPC message is capped by the largest function's body
    /// limit whatever the window; a REST stream's body is read by its handler as it arrives.
    static let windowSize = 1 << 20

    let responder: HTTPChannelHandler.Responder
    let grpc: GRPCStreamResponder
    /// A connection with no open stream for this long is closed (with GOAWAY).
    let idleTimeout: TimeAmount
    /// How long streams in flight may take to finish once a graceful close has begun (the
    /// configured `MSCR_SHUTDOWN_GRACE`); then the connection is closed.
    let graceTime: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var configuration = NIOHTTP2Handler.Configuration()
            configuration.connection.controlFrameRateLimit.maximumCount = Self.controlFramesPerSecond
            configuration.connection.controlFrameRateLimit.windowLength = .seconds(1)
            configuration.connection.initialSettings =
                nioDefaultSettings + [HTTP2Setting(parameter: .initialWindowSize, value: Self.windowSize)]
            configuration.stream.targetWindowSize = Self.windowSize
            let manager = NIOHTTP2ServerConnectionManagementHandler(
                eventLoop: channel.eventLoop,
                configuration: .init(maxIdleTime: idleTimeout, maxAge: nil, maxGraceTime: graceTime, keepalive: nil))
            let (restStreams, continuation) = AsyncStream.makeStream(of: RESTStream.self)
            channel.closeFuture.whenComplete { _ in continuation.finish() }
            let streams = configuration.stream
            let multiplexer = HTTP2StreamMultiplexer(
                mode: .server, channel: channel, targetWindowSize: streams.targetWindowSize,
                outboundBufferSizeHighWatermark: streams.outboundBufferSizeHighWatermark,
                outboundBufferSizeLowWatermark: streams.outboundBufferSizeLowWatermark
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTPServerCodec())
                    continuation.yield(try RESTStream(wrappingChannelSynchronously: stream))
                }
            }
            try channel.pipeline.syncOperations.addHandlers(
                NIOHTTP2Handler(
                    mode: .server, connectionConfiguration: configuration.connection,
                    streamConfiguration: configuration.stream),
                manager,
                GRPCCallsHandler(responder: grpc, targetWindowSize: streams.targetWindowSize),
                multiplexer)
            return Value(restStreams: restStreams, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await withDiscardingTaskGroup { group in
            for await stream in value.restStreams {
                group.addTask { await handleHTTP(asyncChannel: stream, logger: logger) }
            }
        }
    }
}
