import FoundationEssentials

/// `gs://bucket/prefix` over the Cloud Storage JSON API.
///
/// Environment (`init(uri:environment:)`): `STORAGE_EMULATOR_HOST` (e.g.
/// `http://127.0.0.1:9023`; a bare `host:port` means http) replaces
/// `https://storage.googleapis.com`. The bearer token comes from `GOOGLE_OAUTH_ACCESS_TOKEN`,
/// else from the service-account key file `GOOGLE_APPLICATION_CREDENTIALS` (checked when the
/// store opens), else from the metadata server (`GCSTokenProvider`; `GCE_METADATA_HOST`
/// overrides its host), except that with the emulator and neither a key file nor
/// `GCE_METADATA_HOST` no token is sent. Plus the
/// `MSCR_STORE_*` transport settings.
///
/// Downloads use `alt=media` (ranges work), uploads `uploadType=media`, metadata a GET of the
/// object resource (the emulator answers HEAD with 501).
package struct GCSObjectStore: ObjectStore {
    package let bucket: String
    /// Empty, or segments each followed by `/`.
    package let prefix: String
    /// `https://storage.googleapis.com` or the emulator's URL.
    let base: String
    let tokens: GCSTokenProvider
    let client: HTTPClient
    /// Talking to an emulator: gcp-storage-emulator parses an `application/json` media upload
    /// as request metadata and drops the connection, so JSON goes up as `application/octet-stream`.
    var emulated: Bool { base != "https://storage.googleapis.com" }
    /// `maxResults` of each listing page (nil: the server's default).
    package var listPageSize: Int?

    package var uri: String { BucketURI(bucket: bucket, prefix: prefix).display(scheme: "gs") }

    package init(
        bucket: String, prefix: String = "", endpoint: String? = nil, tokens: GCSTokenProvider,
        configuration: TransportConfiguration = TransportConfiguration()
    ) throws {
        let parsed = try BucketURI("gs://\(bucket)/\(prefix)", scheme: "gs")
        self.bucket = parsed.bucket
        self.prefix = parsed.prefix
        var base = endpoint.flatMap { $0.isEmpty ? nil : $0 } ?? "https://storage.googleapis.com"
        if !base.hasPrefix("http://") && !base.hasPrefix("https://") { base = "http://" + base }
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.tokens = tokens
        self.client = HTTPClient(configuration: configuration)
    }

    /// The store for `gs://bucket/prefix`, configured from the environment (see the type).
    package init(uri: String, environment: [String: String]) throws {
        let parsed = try BucketURI(uri, scheme: "gs")
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let emulator = env("STORAGE_EMULATOR_HOST")
        let tokens: GCSTokenProvider
        let transport = try TransportConfiguration(environment: environment)
        if let token = env("GOOGLE_OAUTH_ACCESS_TOKEN") {
            tokens = GCSTokenProvider(fixed: token)
        } else if let keyFile = env("GOOGLE_APPLICATION_CREDENTIALS") {
            tokens = GCSTokenProvider(serviceAccount: try ServiceAccountKey(path: keyFile), caFile: transport.caFile)
        } else if emulator != nil && env("GCE_METADATA_HOST") == nil {
            tokens = GCSTokenProvider.none
        } else {
            tokens = GCSTokenProvider(metadataHost: env("GCE_METADATA_HOST") ?? "metadata.google.internal")
        }
        try self.init(
            bucket: parsed.bucket, prefix: parsed.prefix, endpoint: emulator, tokens: tokens,
            configuration: transport)
    }

    package func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        try ObjectKey.validateKey(key)
        let request = try makeRequest("GET", url: objectURL(key) + "?alt=media", display: display(key))
        let response = try client.stream(request, range: range, into: consumer)
        guard response.isSuccess else {
            if response.status == 404 { throw ObjectStoreError(.notFound, "\(display(key)) does not exist") }
            throw failed(response, "GET", display(key))
        }
    }

    package func stat(_ key: String) throws -> ObjectInfo? {
        try ObjectKey.validateKey(key)
        let response = try client.send(makeRequest("GET", url: objectURL(key), display: display(key)))
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw failed(response, "GET (metadata)", display(key)) }
        struct Resource: Decodable {
            var size: String?
            var etag: String?
            var generation: String?
        }
        guard let resource = try? JSONDecoder().decode(Resource.self, from: Data(response.body)),
            let size = resource.size.flatMap({ Int($0) })
        else {
            throw ObjectStoreError(.malformed, "GET (metadata) \(display(key)): no object size in the answer")
        }
        return ObjectInfo(size: size, etag: resource.etag ?? resource.generation)
    }

    package func put(_ key: String, bytes: [UInt8], contentType: String) throws {
        try ObjectKey.validateKey(key)
        let url =
            "\(base)/upload/storage/v1/b/\(bucket)/o?"
            + URIEncoding.query([("name", prefix + key), ("uploadType", "media")])
        var request = try makeRequest("POST", url: url, display: display(key), body: bytes)
        request.headers.append(
            (
                "Content-Type",
                emulated && contentType.hasPrefix("application/json") ? "application/octet-stream" : contentType
            ))
        let response = try client.send(request)
        guard response.isSuccess else { throw failed(response, "PUT", display(key)) }
    }

    package func list(prefix listPrefix: String) throws -> [String] {
        try ObjectKey.validatePrefix(listPrefix)
        struct Page: Decodable {
            struct Item: Decodable { var name: String }
            var items: [Item]?
            var nextPageToken: String?
        }
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("prefix", prefix + listPrefix)]
            if let token { query.append(("pageToken", token)) }
            if let listPageSize { query.append(("maxResults", String(listPageSize))) }
            let url = "\(base)/storage/v1/b/\(bucket)/o?" + URIEncoding.query(query)
            let response = try client.send(makeRequest("GET", url: url, display: display(listPrefix) + "*"))
            guard response.isSuccess else { throw failed(response, "LIST", display(listPrefix) + "*") }
            let page: Page
            do {
                page = try JSONDecoder().decode(Page.self, from: Data(response.body))
            } catch {
                throw ObjectStoreError(.malformed, "LIST \(display(listPrefix))*: not a JSON object listing: \(error)")
            }
            for item in page.items ?? [] where item.name.hasPrefix(prefix) {
                keys.append(String(item.name.dropFirst(prefix.count)))
            }
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return keys
    }

    private func display(_ key: String) -> String { uri + "/" + key }

    private func objectURL(_ key: String) -> String {
        "\(base)/storage/v1/b/\(bucket)/o/" + URIEncoding.encode(prefix + key, keepSlash: false)
    }

    private func makeRequest(_ method: String, url: String, display: String, body: [UInt8]? = nil) throws -> HTTPRequest
    {
        var request = HTTPRequest(method: method, url: url, display: display, body: body)
        if let token = try tokens.token() { request.headers.append(("Authorization", "Bearer " + token)) }
        return request
    }

    /// The error for a failed answer; a refused token is dropped so the next call fetches anew.
    private func failed(_ response: HTTPResponse, _ method: String, _ display: String) -> ObjectStoreError {
        if response.status == 401 { tokens.invalidate() }
        return response.error(method, display)
    }
}
