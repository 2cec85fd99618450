/// Retry, deadline and timeout settings of every remote store (`s3://`, `gs://`, `http(s)://`).
///
/// Environment (read by `init(environment:)`, documented in the README):
/// - `MSCR_STORE_RETRIES`: attempts per request in total, first one included (default 4;
///   1 means never retry);
/// - `MSCR_STORE_DEADLINE`: seconds one operation may take, all attempts, backoff and the
///   streaming of the body (and the consumer's work on it) included (default 60);
/// - `MSCR_STORE_CONNECT_TIMEOUT`: seconds to establish a connection (default 10);
/// - `MSCR_STORE_STALL_TIMEOUT`: a transfer that moves no byte (or under 1 KiB/s) for this many
///   seconds is a stall: it is aborted and retried (resumed with a Range request) (default 15);
/// - `MSCR_STORE_CA_FILE`: a PEM bundle of trusted CAs (default: the system's). TLS peer and
///   host verification are always on.
package struct TransportConfiguration: Sendable, Equatable {
    /// Attempts per request, the first included (at least 1).
    package var maxAttempts = 4
    /// Seconds one operation may take in all.
    package var deadline = 60.0
    /// Seconds to establish a TCP (and TLS) connection.
    package var connectTimeout = 10.0
    /// A transfer that moves no byte for this many seconds (waiting for the answer included),
    /// or stays below `stallBytesPerSecond` for as long (libcurl's averaged
    /// `CURLOPT_LOW_SPEED_*`), is stalled: aborted, then retried or resumed.
    package var stallTimeout = 15.0
    /// The speed under which a transfer is crawling.
    package var stallBytesPerSecond = 1024
    /// Backoff: attempt n waits a uniformly random time in `0 ... min(cap, base * 2^(n-1))`
    /// ("full jitter"), or the server's `Retry-After` when it is longer (still within the deadline).
    package var backoffBase = 0.2
    package var backoffCap = 5.0
    /// A PEM bundle of trusted CAs; nil uses libcurl's default.
    package var caFile: String?
    /// libcurl's receive buffer, allocated for each transfer: large for model weights
    /// (``defaultReceiveBufferBytes``); a client whose answers are small (the span exporter) keeps
    /// it under glibc's mmap threshold, else every transfer maps, faults in and unmaps it, and
    /// the unmapping interrupts the other cores to flush their TLBs.
    package var receiveBufferBytes = Self.defaultReceiveBufferBytes

    /// 256 KiB: fewer, larger reads of a streamed model.
    package static let defaultReceiveBufferBytes = 256 * 1024

    package init() {}

    /// One attempt, no retries, the whole exchange within `timeout` seconds (health checks,
    /// webhooks that must not be sent twice).
    package static func once(timeout: Double) -> TransportConfiguration {
        var c = TransportConfiguration()
        c.maxAttempts = 1
        c.deadline = timeout
        c.connectTimeout = min(timeout, c.connectTimeout)
        return c
    }

    /// The defaults, overridden by the `MSCR_STORE_*` variables. A variable that is set but does
    /// not parse (or is out of range) is an error naming it, never silently ignored.
    package init(environment: [String: String]) throws {
        func number(_ name: String, _ what: String, min: Double) throws -> Double? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Double(text), value.isFinite, value >= min else {
                throw ObjectStoreError(.configuration, "\(name)=\(text) is not \(what)")
            }
            return value
        }
        if let n = try number("MSCR_STORE_RETRIES", "a whole number of attempts >= 1", min: 1) {
            guard n == n.rounded() else {
                throw ObjectStoreError(.configuration, "MSCR_STORE_RETRIES=\(n) is not a whole number of attempts >= 1")
            }
            maxAttempts = Int(n)
        }
        if let d = try number("MSCR_STORE_DEADLINE", "a positive number of seconds", min: .leastNonzeroMagnitude) {
            deadline = d
        }
        if let c = try number("MSCR_STORE_CONNECT_TIMEOUT", "a positive number of seconds", min: .leastNonzeroMagnitude)
        {
            connectTimeout = c
        }
        if let s = try number("MSCR_STORE_STALL_TIMEOUT", "a positive number of seconds", min: .leastNonzeroMagnitude) {
            stallTimeout = s
        }
        if let ca = environment["MSCR_STORE_CA_FILE"], !ca.isEmpty { caFile = ca }
    }

    /// The pause before attempt `attempt + 1`, given the server's `Retry-After` seconds.
    func backoff(after attempt: Int, retryAfter: Double?) -> Double {
        let ceiling = min(backoffCap, backoffBase * Double(1 << min(attempt - 1, 30)))
        let jittered = ceiling > 0 ? Double.random(in: 0...ceiling) : 0
        if let retryAfter, retryAfter > jittered { return min(retryAfter, backoffCap * 4) }
        return jittered
    }
}
