import Common
import FoundationEssentials
import Functions
import Hummingbird

/// Reading request bodies under a limit.
enum HTTPBody {
    /// Collects the body, failing with 413 as soon as it passes `limit` bytes (by the
    /// `Content-Length` header before reading, or by counting as it streams), and with 408 when
    /// the whole body has not arrived within `timeout`.
    ///
    /// The reader is a child task that has ended before this returns: the body's iterator is
    /// single-use, and Hummingbird drains what is left of the body after the handler answers.
    /// A reader still alive at that point (the old unstructured deadline) made NIO trap with
    /// "only allow a single Iterator" when its cancellation landed after the drain had begun.
    static func collect(_ request: Request, limit: Int, timeout: Duration) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw FunctionError(.payloadTooLarge, "the body of \(declared) bytes exceeds the limit of \(limit) bytes")
        }
        let body = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { try await read(request, limit: limit) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }  // the group then waits for the loser before returning
            return try await group.next() ?? nil
        }
        guard let body else {
            throw FunctionError(
                .requestTimeout, "the request body did not arrive within \(timeout.components.seconds) s (MSCR_BODY_TIMEOUT)")
        }
        return body
    }

    private static func read(_ request: Request, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw FunctionError(.payloadTooLarge, "the body exceeds the limit of \(limit) bytes")
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        // A cancelled iterator ends early, like a finished body: never hand on a partial body.
        try Task.checkCancellation()
        return bytes
    }

    /// Query parameters as a dictionary (the last value of a repeated name wins).
    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { out[String(k)] = String(v) }
        return out
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: JSON.bytes(object))))
    }
}

