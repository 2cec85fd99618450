/// `http(s)://host/prefix`: a read-only repository on any static web server or public bucket
/// URL (redirects followed, e.g. GitHub's raw files).
///
/// A static server cannot list, so `list(prefix:)` works this way, in order:
/// 1. if `ROOT/index.txt` exists, it is the listing: one key per line (blank lines and `#`
///    comments ignored), filtered by the prefix; generate it from a file repository with
///    `cd REPO && find . -type f ! -name index.txt | sed 's|^\./||' > index.txt`;
/// 2. otherwise, for a prefix `<model>/` (what `ModelRepository.versions(of:)` asks), it probes
///    `<model>/1/manifest.json`, `<model>/2/manifest.json`, … with HEAD until the first one
///    missing, and returns the manifests it found. A deleted version therefore hides every
///    later one: publish an `index.txt` for repositories with gaps;
/// 3. any other prefix (e.g. all models, for `mscr models list`) needs `index.txt` and fails
///    with a message saying so.
///
/// `stat` uses HEAD and falls back to a ranged GET of byte 0 for servers without HEAD. `put`
/// fails with `readOnly`. Credentials in the URL (`https://user:pass@host/…`) are used but
/// never shown in `uri` or in messages.
package struct HTTPObjectStore: ObjectStore {
    /// The URL prefix requests use (may carry user info).
    let root: String
    package let uri: String
    let client: HTTPClient
    /// Stops probing after this many versions (a server answering 200 to everything).
    private static let probeLimit = 10_000

    package init(root: String, configuration: TransportConfiguration = TransportConfiguration()) throws {
        guard root.hasPrefix("http://") || root.hasPrefix("https://") else {
            throw ObjectStoreError(.invalidURI, "'\(HTTPObjectStore.redact(root))' is not an http(s) URL")
        }
        guard !root.contains("?"), !root.contains("#") else {
            throw ObjectStoreError(
                .invalidURI, "a repository URL has no query or fragment: '\(HTTPObjectStore.redact(root))'")
        }
        var trimmed = root
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
        self.uri = HTTPObjectStore.redact(trimmed)
        self.client = HTTPClient(configuration: configuration)
    }

    package func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        try ObjectKey.validateKey(key)
        let response = try client.stream(request("GET", key), range: range, into: consumer)
        guard response.isSuccess else {
            if response.status == 404 || response.status == 410 {
                throw ObjectStoreError(.notFound, "\(uri)/\(key) does not exist")
            }
            throw response.error("GET", "\(uri)/\(key)")
        }
    }

    package func stat(_ key: String) throws -> ObjectInfo? {
        try ObjectKey.validateKey(key)
        let head = try client.send(request("HEAD", key))
        if head.status == 404 || head.status == 410 { return nil }
        if head.isSuccess, let size = head.contentLength {
            return ObjectInfo(size: size, etag: head.header("etag"))
        }
        // No HEAD (405, 501, some 403s) or no length: ask for the first byte.
        let probe = try client.stream(request("GET", key), range: 0...0) { _ in }
        switch probe.status {
        case 206:
            if let total = probe.contentRangeTotal { return ObjectInfo(size: total, etag: probe.header("etag")) }
        case 200:
            if let size = probe.contentLength { return ObjectInfo(size: size, etag: probe.header("etag")) }
        case 416:
            return ObjectInfo(size: probe.contentRangeTotal ?? 0, etag: probe.header("etag"))
        case 404, 410:
            return nil
        default:
            throw probe.error("GET", "\(uri)/\(key)")
        }
        throw ObjectStoreError(
            .malformed, "\(uri)/\(key): the server gives no size (no Content-Length or Content-Range)")
    }

    package func put(_ key: String, bytes: [UInt8], contentType: String) throws {
        throw ObjectStoreError(
            .readOnly, "\(uri) is read-only (http/https repositories cannot be written); cannot put \(key)")
    }

    package func list(prefix: String) throws -> [String] {
        try ObjectKey.validatePrefix(prefix)
        if let index = try readIndex() {
            return index.filter { $0.hasPrefix(prefix) }
        }
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].isEmpty else {
            throw ObjectStoreError(
                .readOnly,
                "\(uri) cannot be listed: a static web server has no listing; put an index.txt (one key per line) at its root"
            )
        }
        var keys: [String] = []
        for version in 1...HTTPObjectStore.probeLimit {
            let key = "\(prefix)\(version)/manifest.json"
            guard try stat(key) != nil else { break }
            keys.append(key)
        }
        return keys
    }

    /// The lines of `index.txt`, or nil when there is none.
    private func readIndex() throws -> [String]? {
        let bytes: [UInt8]
        do {
            bytes = try read("index.txt")
        } catch let error as ObjectStoreError where error.code == .notFound {
            return nil
        }
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingSpaces }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && (try? ObjectKey.validateKey($0)) != nil }
    }

    private func request(_ method: String, _ key: String) -> HTTPRequest {
        var request = HTTPRequest(
            method: method, url: root + "/" + URIEncoding.encode(key, keepSlash: true), display: "\(uri)/\(key)")
        request.followRedirects = true
        return request
    }

    /// `url` without `user:password@`.
    package static func redact(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
