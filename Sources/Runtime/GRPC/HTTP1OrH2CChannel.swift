import HummingbirdCore
import Logging
import NIOCore

/// HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one port: each connection is told apart
/// by its first bytes (HTTP/2's client preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, can never
/// start an HTTP/1.1 request), then handed to Hummingbird's HTTP/1.1 channel or to `H2CConnection`, so the
/// REST routes answer over both and gRPC calls arrive as HTTP/2 streams of the same router.
struct HTTP1OrH2CChannel: ServerChildChannel {
    /// A connection whose protocol its first bytes will tell. The child channel is registered
    /// (and reads) only once `setup` has completed, so setup completes at once and the
    /// protocol is a future that `handle` waits for.
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        let negotiated: EventLoopFuture<Negotiated>
    }

    enum Negotiated: Sendable {
        case http1(HTTP1Channel.Value)
        case http2(H2CConnection.Value)
    }

    let http1: HTTP1Channel
    let http2: H2CConnection
    /// How long a new connection may stay silent before it is closed.
    let firstBytesTimeout: TimeAmount

    /// - Parameter graceTime: how long HTTP/2 streams in flight may take to finish once a graceful
    ///   shutdown has begun (the configured `MSCR_SHUTDOWN_GRACE`), after which the connection is
    ///   closed.
    /// - Parameter grpc: answers gRPC calls on their HTTP/2 streams.
    init(
        responder: @escaping HTTPChannelHandler.Responder, grpc: GRPCStreamResponder, idleTimeout: TimeAmount,
        graceTime: TimeAmount
    ) {
        self.http1 = HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout))
        // The connection's idle timeout covers its streams: a per-stream idle timer would be
        // scheduled and cancelled on every request (every gRPC call is a stream).
        self.http2 = H2CConnection(responder: responder, grpc: grpc, idleTimeout: idleTimeout, graceTime: graceTime)
        self.firstBytesTimeout = idleTimeout
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let promise = channel.eventLoop.makePromise(of: Negotiated.self)
        let http1 = self.http1
        let http2 = self.http2
        let detector = PrefaceDetector(promise: promise, timeout: firstBytesTimeout) { isHTTP2 in
            isHTTP2
                ? http2.setup(channel: channel, logger: logger).map { Negotiated.http2($0) }
                : http1.setup(channel: channel, logger: logger).map { Negotiated.http1($0) }
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(detector)
            return Value(channel: channel, negotiated: promise.futureResult)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection): await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("connection closed before its protocol was known: \(error)")
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 and h2c on one port (`HTTP1OrH2CChannel`); `idleTimeout` closes idle
    /// connections and streams, and connections that send nothing; `graceTime` is how long
    /// HTTP/2 streams in flight have on shutdown; `grpc` answers gRPC calls on h2c streams.
    static func http1OrH2C(idleTimeout: TimeAmount, graceTime: TimeAmount, grpc: GRPCStreamResponder)
        -> HTTPServerBuilder
    {
        .init { responder in
            HTTP1OrH2CChannel(responder: responder, grpc: grpc, idleTimeout: idleTimeout, graceTime: graceTime)
        }
    }
}

/// Holds a new connection's first bytes until they tell HTTP/2's preface from anything else,
/// has the pipeline for that protocol set up, hands the bytes on to it and leaves the pipeline.
final class PrefaceDetector<Value: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static var preface: [UInt8] { Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) }

    /// What the first bytes say: nil while they are a strict prefix of the preface.
    static func isHTTP2(_ bytes: some Collection<UInt8>) -> Bool? {
        let preface = Self.preface
        for (byte, expected) in zip(bytes, preface) where byte != expected { return false }
        return bytes.count >= preface.count ? true : nil
    }

    private let promise: EventLoopPromise<Value>
    private let timeout: TimeAmount
    private let configure: (Bool) -> EventLoopFuture<Value>
    private var buffered: ByteBuffer?
    private var decided = false
    private var timer: Scheduled<Void>?

    init(promise: EventLoopPromise<Value>, timeout: TimeAmount, configure: @escaping (Bool) -> EventLoopFuture<Value>) {
        self.promise = promise
        self.timeout = timeout
        self.configure = configure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        guard !decided, let isHTTP2 = Self.isHTTP2(buffered!.readableBytesView) else { return }
        decided = true
        timer?.cancel()
        configure(isHTTP2).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let value):
                if let bytes = self.buffered {
                    self.buffered = nil
                    context.fireChannelRead(self.wrapInboundOut(bytes))
                    context.fireChannelReadComplete()
                }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                self.promise.succeed(value)
            case .failure(let error):
                self.promise.fail(error)
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !decided {
            decided = true
            promise.fail(ChannelError.inputClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !decided {
            decided = true
            timer?.cancel()
            promise.fail(error)
        }
        context.close(promise: nil)
    }
}
