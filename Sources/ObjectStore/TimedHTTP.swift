import CCurl

/// A plain HTTP(S) client for the client commands (`mscr invoke`, `coldstart`, `load`): one
/// libcurl handle, one attempt per request (no retries: the commands measure failures, they do
/// not hide them), and libcurl's phase timings for every exchange.
///
/// A client keeps its connection between requests (HTTP keep-alive) unless a request asks for
/// a fresh one. It is used by one thread at a time; make one per thread.
package final class TimedHTTPClient {
    /// TLS and timeout settings, fixed for the client's life.
    package struct Options: Sendable {
        /// Skip certificate and host name verification (`--insecure`).
        package var insecure = false
        /// A PEM bundle of trusted CAs (`--cacert`); nil uses the system's.
        package var caFile: String?
        /// Seconds one request may take in all.
        package var timeout = 60.0
        /// Seconds to establish TCP (and TLS).
        package var connectTimeout = 10.0

        package init(insecure: Bool = false, caFile: String? = nil, timeout: Double = 60, connectTimeout: Double = 10) {
            self.insecure = insecure
            self.caFile = caFile
            self.timeout = timeout
            self.connectTimeout = connectTimeout
        }
    }

    package let options: Options
    private let easy: CurlEasy

    package init(options: Options = Options()) throws(ObjectStoreError) {
        self.options = options
        do {
            easy = try CurlEasy()
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.transport, "\(error)")
        }
    }

    /// Sends `request` once and waits for the whole answer. A transport failure (refused,
    /// timed out, TLS) is returned in `failure`, not thrown; only a libcurl setup error throws.
    /// `timeout` overrides the client's per-request limit (seconds). `request.awsSigV4` is ignored.
    package func send(_ request: HTTPRequest, freshConnection: Bool = false, timeout: Double? = nil)
        throws(ObjectStoreError) -> TimedHTTPResult
    {
        let sink = TransferSink(consumer: nil)
        easy.reset()
        let settings = ExchangeSettings(
            connectTimeout: options.connectTimeout, timeout: timeout ?? options.timeout, verifyTLS: !options.insecure,
            caFile: options.caFile, freshConnection: freshConnection)
        var plain = request
        plain.awsSigV4 = nil
        let attempt: AttemptResult
        do {
            attempt = try easy.exchange(plain, settings: settings, sink: sink)
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.transport, "\(error)")
        }
        var result = TimedHTTPResult(
            status: sink.status, headers: sink.headers, body: sink.body,
            timing: timing(firstByte: sink.firstHeaderAt.map { ($0 - sink.started) * 1000 }))
        if attempt.code != CURLE_OK {
            result.failure = TransferFailure(
                kind: TransferFailure.Kind(attempt.code), curlCode: Int(attempt.code.rawValue),
                message: attempt.message.isEmpty ? CurlEasy.describe(attempt.code) : attempt.message)
        }
        return result
    }

    /// libcurl's phase times of the last transfer (microseconds → milliseconds). `firstByte` is
    /// our own clock's reading at the first response header: libcurl 7.x starts its
    /// STARTTRANSFER timer when a large upload begins, not when the answer arrives.
    private func timing(firstByte: Double?) -> TransferTiming {
        func ms(_ info: CURLINFO) -> Double {
            var value: curl_off_t = 0
            guard mscr_curl_getinfo_off(easy.handle, info, &value) == CURLE_OK else { return 0 }
            return Double(value) / 1000
        }
        var connects = 0
        _ = mscr_curl_getinfo_long(easy.handle, CURLINFO_NUM_CONNECTS, &connects)
        let total = ms(CURLINFO_TOTAL_TIME_T)
        return TransferTiming(
            dnsMs: ms(CURLINFO_NAMELOOKUP_TIME_T), connectMs: ms(CURLINFO_CONNECT_TIME_T),
            tlsMs: ms(CURLINFO_APPCONNECT_TIME_T),
            firstByteMs: min(firstByte ?? ms(CURLINFO_STARTTRANSFER_TIME_T), total),
            totalMs: total, newConnections: connects)
    }
}

/// What one `TimedHTTPClient` exchange ended with.
package struct TimedHTTPResult: Sendable {
    /// The status of the last response (0 when none arrived).
    package var status: Int
    /// Header names are lowercase; a repeated header keeps its last value.
    package var headers: [String: String]
    package var body: [UInt8]
    package var timing: TransferTiming
    /// Set when libcurl failed (no answer, or a broken one).
    package var failure: TransferFailure?

    package init(
        status: Int, headers: [String: String] = [:], body: [UInt8] = [], timing: TransferTiming = TransferTiming(),
        failure: TransferFailure? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timing = timing
        self.failure = failure
    }

    /// A complete answer with a 2xx status.
    package var isSuccess: Bool { failure == nil && (200..<300).contains(status) }

    package func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// libcurl's timings of one transfer, each measured from the start of the request (as
/// `curl -w '%{time_namelookup}…'` prints them). Zero for a phase that did not happen: a reused
/// connection has no DNS or connect time, plain HTTP has no TLS.
package struct TransferTiming: Sendable, Equatable {
    /// Name resolved.
    package var dnsMs = 0.0
    /// TCP connected.
    package var connectMs = 0.0
    /// TLS handshake done (0 without TLS).
    package var tlsMs = 0.0
    /// First byte of the answer received.
    package var firstByteMs = 0.0
    /// Whole answer received.
    package var totalMs = 0.0
    /// Connections opened for this transfer (0: an idle kept-alive one was reused).
    package var newConnections = 0

    package init(
        dnsMs: Double = 0, connectMs: Double = 0, tlsMs: Double = 0, firstByteMs: Double = 0, totalMs: Double = 0,
        newConnections: Int = 0
    ) {
        self.dnsMs = dnsMs
        self.connectMs = connectMs
        self.tlsMs = tlsMs
        self.firstByteMs = firstByteMs
        self.totalMs = totalMs
        self.newConnections = newConnections
    }
}

/// Why a transfer got no complete answer.
package struct TransferFailure: Sendable, Equatable {
    package enum Kind: String, Sendable {
        /// Name resolution failed or the connection was refused or unreachable.
        case connect
        /// The connect or request timeout passed.
        case timeout
        /// The TLS handshake or certificate check failed.
        case tls
        /// The connection broke while sending or receiving (reset, empty reply, partial body).
        case broken
        case other

        init(_ code: CURLcode) {
            switch code {
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT: self = .connect
            case CURLE_OPERATION_TIMEDOUT: self = .timeout
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
                CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                self = .tls
            case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_WEIRD_SERVER_REPLY:
                self = .broken
            default: self = .other
            }
        }
    }

    package var kind: Kind
    package var curlCode: Int
    /// libcurl's words, e.g. "Failed to connect to 127.0.0.1 port 8080: Connection refused".
    package var message: String
}
