import CCurl
import Common
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client over libcurl with retries, backoff, deadlines and resumable
/// streaming downloads. Every remote store uses one.
///
/// Retried: connection failures, timeouts and stalls, broken transfers, and the statuses 408,
/// 429 and 5xx (but 501 and 505); with full-jitter exponential backoff (or `Retry-After`), at most
/// `maxAttempts` attempts, all within `deadline`. A streaming GET whose consumer already saw
/// bytes is resumed with a `Range` request from the offset reached (pinned with `If-Match`
/// when the first answer had an ETag), so the consumer sees every byte exactly once.
/// Anything else (a 4xx, a consumer error) ends the operation at once.
package final class HTTPClient: Sendable {
    package let configuration: TransportConfiguration
    /// Idle handles; reusing them reuses their connections.
    private let idle = Mutex<[CurlEasy]>([])
    private static let maxIdle = 8

    package init(configuration: TransportConfiguration = TransportConfiguration()) {
        self.configuration = configuration
    }

    /// Sends `request` and collects the whole answer (listings, metadata, small objects, PUTs).
    /// A non-success status after retries is returned, not thrown: the caller maps it.
    package func send(_ request: HTTPRequest) throws -> HTTPResponse {
        try run(request, range: nil, sink: TransferSink(consumer: nil))
    }

    /// GETs `request` and hands the body (of a 2xx answer) to `consumer` chunk by chunk as it
    /// arrives; `range` asks for inclusive byte offsets. A consumer error aborts the transfer
    /// and is rethrown as is. A non-success status is returned (its body is not given to the
    /// consumer).
    package func stream(
        _ request: HTTPRequest, range: ClosedRange<Int>? = nil,
        into consumer: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> HTTPResponse {
        try withoutActuallyEscaping(consumer) { consumer in
            try run(request, range: range, sink: TransferSink(consumer: consumer))
        }
    }

    private func run(_ request: HTTPRequest, range: ClosedRange<Int>?, sink: TransferSink) throws -> HTTPResponse {
        let started = Monotonic.seconds()
        let deadline = started + configuration.deadline
        var attempt = 0
        var etag: String?
        var problem = ""
        var stalls = 0
        while true {
            attempt += 1
            let remaining = deadline - Monotonic.seconds()
            guard remaining > 0 else {
                throw failure(
                    request, attempt: attempt - 1, started: started, problem: problem, stalls: stalls, deadlineHit: true
                )
            }
            var current = request
            var start: Int?
            if range != nil || sink.delivered > 0 {
                let lower = (range?.lowerBound ?? 0) + sink.delivered
                start = lower
                current.headers.append(("Range", "bytes=\(lower)-" + (range.map { String($0.upperBound) } ?? "")))
                if sink.delivered > 0, let etag { current.headers.append(("If-Match", etag)) }
            }
            let limit = range.map { $0.count - sink.delivered }
            if let limit, limit <= 0 {
                return HTTPResponse(status: 206, headers: sink.headers, attempts: attempt)
            }
            sink.beginAttempt(expectedStart: start, limit: limit)
            let attemptStart = Monotonic.seconds()
            let result = try withHandle { try perform(current, on: $0, sink: sink, timeout: remaining) }
            if let error = sink.consumerError { throw error }
            if let error = sink.protocolError {
                throw ObjectStoreError(.transport, "\(request.method) \(request.display): \(error)")
            }
            // A strong ETag pins resumed requests to the same object version (a weak one cannot).
            if etag == nil, (200..<300).contains(sink.status), let tag = sink.headers["etag"], !tag.hasPrefix("W/") {
                etag = tag
            }
            var retryAfter: Double?
            if result.code == CURLE_OK || sink.finishedEarly {
                let status = sink.status
                guard HTTPClient.retryableStatus(status) else {
                    let response = HTTPResponse(
                        status: status, headers: sink.headers, body: sink.body, attempts: attempt)
                    if sink.delivered > 0 && !response.isSuccess {
                        // The consumer has part of the object; the rest is not to be had.
                        let hint = status == 412 ? " (the object changed during the transfer)" : ""
                        throw ObjectStoreError(
                            .transport,
                            "\(request.method) \(request.display): the transfer broke after \(sink.delivered) bytes and could not resume: HTTP \(status)\(hint) at attempt \(attempt)"
                        )
                    }
                    return response
                }
                let response = HTTPResponse(status: status, headers: sink.headers, body: sink.body, attempts: attempt)
                problem = "HTTP \(status)" + (response.serverDetail().map { " (\($0))" } ?? "")
                retryAfter = response.header("retry-after").flatMap { Double($0.trimmingSpaces) }
            } else {
                let elapsed = Monotonic.seconds() - attemptStart
                problem = describe(result, elapsed: elapsed, timeout: remaining)
                if sink.stalled {
                    stalls += 1
                    problem =
                        "stalled: no bytes for \(Self.format(configuration.stallTimeout)) s (MSCR_STORE_STALL_TIMEOUT)"
                        + (sink.delivered > 0 ? " after \(sink.delivered) bytes" : "")
                }
                guard sink.stalled || HTTPClient.retryable.contains(result.code.rawValue) else {
                    throw ObjectStoreError(
                        .transport,
                        "\(request.method) \(request.display): \(problem) (attempt \(attempt), not retried)")
                }
            }
            guard attempt < configuration.maxAttempts else {
                throw failure(
                    request, attempt: attempt, started: started, problem: problem, stalls: stalls, deadlineHit: false)
            }
            let pause = configuration.backoff(after: attempt, retryAfter: retryAfter)
            guard Monotonic.seconds() + pause < deadline else {
                throw failure(
                    request, attempt: attempt, started: started, problem: problem, stalls: stalls, deadlineHit: true)
            }
            if pause > 0 { usleep(UInt32(min(pause, 3600) * 1_000_000)) }
        }
    }

    private func failure(
        _ request: HTTPRequest, attempt: Int, started: Double, problem: String, stalls: Int, deadlineHit: Bool
    ) -> ObjectStoreError {
        let elapsed = (Monotonic.seconds() - started).fixed(1)
        var message =
            "\(request.method) \(request.display) failed after \(attempt) attempt\(attempt == 1 ? "" : "s") in \(elapsed) s"
        if deadlineHit {
            message += " (deadline of \(Self.format(configuration.deadline)) s reached, MSCR_STORE_DEADLINE)"
        } else {
            message += " (attempt limit \(configuration.maxAttempts), MSCR_STORE_RETRIES)"
        }
        if stalls > 0 && !problem.hasPrefix("stalled") {
            message +=
                "; \(stalls) attempt\(stalls == 1 ? "" : "s") stalled (no bytes for \(Self.format(configuration.stallTimeout)) s)"
        }
        if !problem.isEmpty { message += ": last error: \(problem)" }
        let code: ObjectStoreError.Code = problem.hasPrefix("HTTP ") ? .httpStatus : .transport
        return ObjectStoreError(code, message)
    }

    private func describe(_ result: AttemptResult, elapsed: Double, timeout: Double) -> String {
        let detail = result.message.isEmpty ? CurlEasy.describe(result.code) : result.message
        if result.code == CURLE_OPERATION_TIMEDOUT {
            if elapsed + 0.05 >= timeout { return "timed out at the deadline: \(detail)" }
            if detail.contains("too slow") {
                return
                    "stalled: below \(configuration.stallBytesPerSecond) bytes/s for \(Self.format(configuration.stallTimeout)) s (\(detail))"
            }
        }
        return detail
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : seconds.fixed(2)
    }

    /// 408, 429 and the 5xx statuses, except 501 and 505 (the server will never support it).
    static func retryableStatus(_ status: Int) -> Bool {
        status == 408 || status == 429 || ((500...599).contains(status) && status != 501 && status != 505)
    }

    /// libcurl codes worth another attempt: name resolution, connect, TLS handshake, send and
    /// receive failures, a partial body, an empty reply, timeouts and stalls, HTTP/2 stream errors.
    private static let retryable: Set<UInt32> = [
        CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_WEIRD_SERVER_REPLY,
        CURLE_HTTP2, CURLE_PARTIAL_FILE, CURLE_OPERATION_TIMEDOUT, CURLE_SSL_CONNECT_ERROR, CURLE_GOT_NOTHING,
        CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2_STREAM, CURLE_AGAIN,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    private func withHandle<T>(_ body: (CurlEasy) throws -> T) throws -> T {
        let handle = try idle.withLock { $0.popLast() } ?? CurlEasy()
        defer {
            handle.reset()
            idle.withLock { handles in
                if handles.count < Self.maxIdle { handles.append(handle) }
            }
        }
        return try body(handle)
    }
}

/// A monotonic clock in seconds.
enum Monotonic {
    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
