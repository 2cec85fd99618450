import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2

/// An HTTP/2 connection (prior knowledge) whose streams are answered by the router like HTTP/1.1
/// requests. Built here rather than with HummingbirdHTTP2's `HTTP2Channel` for one setting:
/// gRPC clients (grpcio, Triton's) send a bandwidth-probe PING with many calls, and NIO's default
/// limit of 200 control frames per 30 s closed their connection after about a thousand calls
/// ("Stream removed"). Connection lifetime (idle close, graceful close with GOAWAY on SIGTERM, a
/// grace limit) is NIO's `NIOHTTP2ServerConnectionManagementHandler`.
struct H2CConnection: HTTPChannelHandler {
    /// The connection and its inbound streams.
    struct Value: ServerChildChannelValue {
        let streams: NIOHTTP2Handler.AsyncStreamMultiplexer<NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>>
        let channel: any Channel
    }

    /// Control frames (PING, SETTINGS, PRIORITY…) a client may send per second before the
    /// connection is closed as a flood: far above any client's probing, far below a flood.
    static let controlFramesPerSecond = 2000

    let responder: HTTPChannelHandler.Responder
    /// A connection with no open stream for this long is closed (with GOAWAY).
    let idleTimeout: TimeAmount
    /// How long streams in flight may take to finish once a graceful close has begun.
    let graceTime: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var configuration = NIOHTTP2Handler.Configuration()
            configuration.connection.controlFrameRateLimit.maximumCount = Self.controlFramesPerSecond
            configuration.connection.controlFrameRateLimit.windowLength = .seconds(1)
            let manager = NIOHTTP2ServerConnectionManagementHandler(
                eventLoop: channel.eventLoop,
                configuration: .init(maxIdleTime: idleTimeout, maxAge: nil, maxGraceTime: graceTime, keepalive: nil))
            let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
                mode: .server, streamDelegate: manager.http2StreamDelegate, configuration: configuration
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTPServerCodec())
                    return try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(wrappingChannelSynchronously: stream)
                }
            }
            try channel.pipeline.syncOperations.addHandler(manager)
            return Value(streams: multiplexer, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                for try await stream in value.streams.inbound {
                    group.addTask { await handleHTTP(asyncChannel: stream, logger: logger) }
                }
            }
        } catch {
            logger.debug("HTTP/2 connection ended: \(error)")
        }
    }
}
