import CCurl

/// What one libcurl transfer ended with.
struct AttemptResult {
    var code: CURLcode
    /// libcurl's detailed message (`CURLOPT_ERRORBUFFER`), when it wrote one.
    var message: String
}

/// Receives one request's headers and body from libcurl's callbacks (through an `Unmanaged`
/// pointer) and decides what reaches the consumer: only the body of a 2xx answer, from the
/// right offset, never beyond the requested range.
final class TransferSink {
    /// The streaming consumer; nil collects the body instead.
    let consumer: ((UnsafeRawBufferPointer) throws -> Void)?
    /// Bytes handed to the consumer over all attempts.
    private(set) var delivered = 0
    var status = 0
    var headers: [String: String] = [:]
    /// The collected body (no consumer), or the start of an error body.
    var body: [UInt8] = []
    var consumerError: (any Error)?
    /// A broken promise of the server (a wrong `Content-Range`): not retried.
    var protocolError: String?
    /// The requested range was complete before the server stopped sending.
    var finishedEarly = false
    /// No byte moved for `stallTimeout` seconds: the progress callback aborted the transfer.
    var stalled = false
    var stallTimeout = 15.0
    /// Monotonic seconds when the exchange started and when its first header line arrived.
    var started = 0.0
    var firstHeaderAt: Double?
    private var progressBytes: Int64 = -1
    private var lastProgress = 0.0

    private var expectedStart: Int?
    private var limit: Int?
    private var checkedStart = false
    private var skip = 0
    private static let errorBodyLimit = 64 * 1024

    init(consumer: ((UnsafeRawBufferPointer) throws -> Void)?) {
        self.consumer = consumer
    }

    func beginAttempt(expectedStart: Int?, limit: Int?) {
        self.expectedStart = expectedStart
        self.limit = limit
        status = 0
        headers = [:]
        body = []
        checkedStart = false
        skip = 0
        finishedEarly = false
        stalled = false
        progressBytes = -1
        lastProgress = Monotonic.seconds()
    }

    /// libcurl's progress report (about once a second, and on every chunk). Returns false to
    /// abort: nothing arrived or left for `stallTimeout` seconds (waiting for the answer
    /// included). `CURLOPT_LOW_SPEED_*` only notices after its averaging window.
    func progress(moved: Int64) -> Bool {
        let now = Monotonic.seconds()
        if moved != progressBytes {
            progressBytes = moved
            lastProgress = now
            return true
        }
        if now - lastProgress > stallTimeout {
            stalled = true
            return false
        }
        return true
    }

    /// One header line. A status line starts a new header block (redirects, `100 Continue`).
    func header(_ line: UnsafeRawBufferPointer) {
        if firstHeaderAt == nil { firstHeaderAt = Monotonic.seconds() }
        let text = String(decoding: line, as: UTF8.self).trimmingSpaces
        if text.hasPrefix("HTTP/") {
            headers = [:]
            let parts = text.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        } else if let colon = text.firstIndex(of: ":") {
            headers[text[..<colon].lowercased()] = text[text.index(after: colon)...].trimmingSpaces
        }
    }

    /// One body chunk. Returns false to abort the transfer.
    func receive(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard let consumer, (200..<300).contains(status) else {
            if consumer == nil || body.count < TransferSink.errorBodyLimit { body.append(contentsOf: chunk) }
            return true
        }
        if !checkedStart {
            checkedStart = true
            guard prepare() else { return false }
        }
        var piece = chunk
        if skip > 0 {
            let dropped = min(skip, piece.count)
            skip -= dropped
            piece = UnsafeRawBufferPointer(rebasing: piece[dropped...])
        }
        if let remaining = limit, piece.count > remaining {
            piece = UnsafeRawBufferPointer(rebasing: piece[..<remaining])
        }
        if !piece.isEmpty {
            do {
                try consumer(piece)
            } catch {
                consumerError = error
                return false
            }
            delivered += piece.count
            if let remaining = limit { limit = remaining - piece.count }
        }
        if limit == 0 {
            finishedEarly = true
            return false
        }
        return true
    }

    /// Before the first byte: a 206 must start where asked; a 200 to a Range request (the
    /// server ignored it) starts at 0, so the bytes before the wanted offset are skipped.
    private func prepare() -> Bool {
        guard let expectedStart else { return true }
        if status == 206 {
            let start = headers["content-range"].flatMap { value -> Int? in
                guard let bytes = value.split(separator: " ").last, let dash = bytes.firstIndex(of: "-") else {
                    return nil
                }
                return Int(bytes[..<dash])
            }
            guard start == expectedStart else {
                protocolError =
                    "asked for bytes from \(expectedStart), the server sent Content-Range '\(headers["content-range"] ?? "")'"
                return false
            }
        } else {
            skip = expectedStart
        }
        return true
    }
}

private let writeCallback: mscr_curl_data_cb = { data, size, count, context in
    let bytes = size * count
    guard let context else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(context).takeUnretainedValue()
    return sink.receive(UnsafeRawBufferPointer(start: data, count: bytes)) ? bytes : 0
}

private let headerCallback: mscr_curl_data_cb = { data, size, count, context in
    let bytes = size * count
    guard let context else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(context).takeUnretainedValue()
    sink.header(UnsafeRawBufferPointer(start: data, count: bytes))
    return bytes
}

private let progressCallback: mscr_curl_xferinfo_cb = { context, _, downloaded, _, uploaded in
    guard let context else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(context).takeUnretainedValue()
    return sink.progress(moved: Int64(downloaded) + Int64(uploaded)) ? 0 : 1
}

/// The libcurl settings of one exchange that differ between the store client (`HTTPClient`:
/// stall detection, keep-alive probes) and the measuring client (`TimedHTTPClient`: optional
/// `--insecure`, a fresh connection on demand).
struct ExchangeSettings {
    var connectTimeout: Double
    /// Seconds the whole exchange may take.
    var timeout: Double
    var verifyTLS = true
    var caFile: String?
    /// Abort below this many bytes per second for `stallTimeout` seconds; nil: no stall check.
    var stallBytesPerSecond: Int?
    var stallTimeout = 15.0
    var freshConnection = false
    /// libcurl's receive buffer (``TransportConfiguration/receiveBufferBytes``).
    var receiveBufferBytes = TransportConfiguration.defaultReceiveBufferBytes
}

extension CurlEasy {
    /// One exchange of `request` on this handle: every libcurl option both clients share is set
    /// here, once, then the transfer runs into `sink`.
    func exchange(_ request: HTTPRequest, settings: ExchangeSettings, sink: TransferSink) throws -> AttemptResult {
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_NOSIGNAL, true)
        try set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(settings.connectTimeout * 1000)))
        try set(CURLOPT_TIMEOUT_MS, max(1, Int(settings.timeout * 1000)))
        try set(CURLOPT_SSL_VERIFYPEER, settings.verifyTLS)
        try set(CURLOPT_SSL_VERIFYHOST, settings.verifyTLS ? 2 : 0)
        if let ca = settings.caFile { try set(CURLOPT_CAINFO, ca) }
        try set(CURLOPT_TCP_NODELAY, true)
        try set(CURLOPT_TCP_KEEPALIVE, true)
        if settings.freshConnection { try set(CURLOPT_FRESH_CONNECT, true) }
        // A hint only: libcurl 7.88 refuses CURLOPT_BUFFERSIZE (CURLE_BAD_FUNCTION_ARGUMENT) on a
        // handle whose previous transfer failed (its receive buffer is still allocated), which
        // would turn a retry after a failed connection into a setopt error.
        hint(CURLOPT_BUFFERSIZE, settings.receiveBufferBytes)
        if request.followRedirects {
            try set(CURLOPT_FOLLOWLOCATION, true)
            try set(CURLOPT_MAXREDIRS, 5)
            try set(CURLOPT_REDIR_PROTOCOLS_STR, request.url.hasPrefix("https:") ? "https" : "http,https")
        }
        if let sigv4 = request.awsSigV4 { try set(CURLOPT_AWS_SIGV4, sigv4) }
        if let user = request.username { try set(CURLOPT_USERNAME, user) }
        if let password = request.password { try set(CURLOPT_PASSWORD, password) }

        let list = CurlEasy.headerList(for: request)
        defer { curl_slist_free_all(list) }
        try set(CURLOPT_HTTPHEADER, list: list)

        let context = Unmanaged.passUnretained(sink).toOpaque()
        try set(CURLOPT_WRITEFUNCTION, callback: writeCallback)
        try set(CURLOPT_WRITEDATA, pointer: context)
        try set(CURLOPT_HEADERFUNCTION, callback: headerCallback)
        try set(CURLOPT_HEADERDATA, pointer: context)
        if let bytesPerSecond = settings.stallBytesPerSecond {
            try set(CURLOPT_LOW_SPEED_LIMIT, bytesPerSecond)
            try set(CURLOPT_LOW_SPEED_TIME, max(1, Int(settings.stallTimeout.rounded(.up))))
            sink.stallTimeout = settings.stallTimeout
            try set(CURLOPT_NOPROGRESS, false)
            try set(CURLOPT_XFERINFOFUNCTION, progress: progressCallback)
            try set(CURLOPT_XFERINFODATA, pointer: context)
        }

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return try errorBuffer.withUnsafeMutableBytes { errorBytes in
            try set(CURLOPT_ERRORBUFFER, pointer: errorBytes.baseAddress)
            defer { try? set(CURLOPT_ERRORBUFFER, pointer: nil) }
            sink.started = Monotonic.seconds()
            let code = try withExtendedLifetime(sink) { try perform(request) }
            if sink.status == 0 { sink.status = responseCode() }
            let message = String(decoding: errorBytes.prefix { $0 != 0 }, as: UTF8.self)
            return AttemptResult(code: code, message: message)
        }
    }
}

extension HTTPClient {
    /// One transfer on `easy`, at most `timeout` seconds long.
    func perform(_ request: HTTPRequest, on easy: CurlEasy, sink: TransferSink, timeout: Double) throws -> AttemptResult
    {
        let config = configuration
        return try easy.exchange(
            request,
            settings: ExchangeSettings(
                connectTimeout: config.connectTimeout, timeout: timeout, caFile: config.caFile,
                stallBytesPerSecond: config.stallBytesPerSecond, stallTimeout: config.stallTimeout,
                receiveBufferBytes: config.receiveBufferBytes),
            sink: sink)
    }
}
