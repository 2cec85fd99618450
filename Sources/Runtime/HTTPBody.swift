import Common
import FoundationEssentials
import Functions
import Hummingbird
import Synchronization

/// Reading request bodies under a limit.
enum HTTPBody {
    /// Collects the body, failing with 413 when it passes `limit` bytes and with 408 when the
    /// whole body has not arrived within `timeout`.
    ///
    /// A body over the limit is not kept, but it is read to its end (up to `discardLimit(limit)`
    /// bytes past the limit, within `timeout`) before the 413 goes out: closing a connection
    /// with unread bytes resets it, and a client still sending never sees the answer. A body
    /// that declares (`Content-Length`) more than that is refused before it is read.
    ///
    /// The reader is a task that has ended before this returns, cancelled or not: the body's
    /// iterator is single-use, and Hummingbird drains what is left of the body after the handler
    /// answers. A reader still alive at that point (the old deadline, which did not wait for it)
    /// made NIO trap with "only allow a single Iterator" when its cancellation landed after the
    /// drain had begun. The timeout is a ``DeadlineTimer`` that cancels the reader (a
    /// `Task.sleep` racing it in a task group cost a libdispatch timer, and two wake-ups of its
    /// thread, per request).
    static func collect(_ request: Request, limit: Int, timeout: Duration) async throws -> [UInt8] {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit + discardLimit(limit) {
            throw tooLarge(declared, limit: limit)
        }
        let progress = Progress()
        // Not fire-and-forget: awaited below, and cancelled by the deadline or the caller.
        // Detached: it needs none of the request's task-locals, which a `Task` would copy.
        let reader = Task.detached { try await read(request, limit: limit, progress: progress) }
        let timer = DeadlineTimer(after: timeout) {
            progress.timedOut.store(true, ordering: .relaxed)
            reader.cancel()
        }
        let result = await withTaskCancellationHandler {
            await reader.result
        } onCancel: {
            reader.cancel()
        }
        timer.cancel()
        let received = progress.received.load(ordering: .relaxed)
        if received > limit { throw tooLarge(declared ?? received, limit: limit) }
        if case .failure = result, progress.timedOut.load(ordering: .relaxed) {
            throw FunctionError(
                .requestTimeout,
                "the request body did not arrive within \(timeout.components.seconds) s (MSCR_BODY_TIMEOUT)")
        }
        return try result.get()
    }

    /// How far past `limit` a refused body is still read (and dropped) so that its client gets
    /// the 413: as much again as the limit, at least 16 MiB.
    static func discardLimit(_ limit: Int) -> Int { max(limit, 16 << 20) }

    /// Bytes received so far, shared with the reader so that a body timeout after the limit
    /// was passed still answers 413, and whether the timeout cancelled the reader.
    private final class Progress: Sendable {
        let received = Atomic<Int>(0)
        let timedOut = Atomic<Bool>(false)
    }

    private static func read(_ request: Request, limit: Int, progress: Progress) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var received = 0
        for try await buffer in request.body {
            received += buffer.readableBytes
            progress.received.store(received, ordering: .relaxed)
            if received <= limit {
                bytes.append(contentsOf: buffer.readableBytesView)
            } else {
                bytes = []
                if received > limit + discardLimit(limit) { break }
            }
        }
        // A cancelled iterator ends early, like a finished body: never hand on a partial body.
        try Task.checkCancellation()
        return bytes
    }

    private static func tooLarge(_ size: Int, limit: Int) -> FunctionError {
        FunctionError(.payloadTooLarge, "the body of \(size) bytes exceeds the limit of \(limit) bytes")
    }

    /// Query parameters as a dictionary (the last value of a repeated name wins).
    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { out[String(k)] = String(v) }
        return out
    }

    static func json(_ object: JSONValue, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: object.bytes())))
    }
}
