/// `s3://bucket/prefix`: Amazon S3 or any S3-compatible endpoint (MinIO, moto, GCS
/// interoperability), signed with AWS Signature V4 by libcurl (`CURLOPT_AWS_SIGV4`).
///
/// Environment (`init(uri:environment:)`): credentials from the first configured provider of
/// the AWS chain (`AWSCredentialSource`: keys, web identity, container endpoint, instance
/// metadata; a session token is sent as `x-amz-security-token`); with none, requests go
/// unsigned (public buckets). `AWS_REGION` (else `AWS_DEFAULT_REGION`, else `us-east-1`).
/// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` selects an S3-compatible endpoint with
/// path-style addressing (`ENDPOINT/bucket/key`); otherwise virtual-host style on
/// `https://bucket.s3.REGION.amazonaws.com` (path style for bucket names with dots, whose
/// certificate would not match). Every request carries `x-amz-content-sha256`
/// (`UNSIGNED-PAYLOAD`, or the body's sha256 for a PUT): libcurl 7.88 does not add it and S3
/// requires it. Plus the `MSCR_STORE_*` transport settings (`TransportConfiguration`).
package struct S3ObjectStore: ObjectStore {
    /// Static AWS credentials.
    package struct Credentials: Sendable, Equatable {
        package var accessKeyID: String
        package var secretAccessKey: String
        package var sessionToken: String?
        package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    package let bucket: String
    /// Empty, or segments each followed by `/`.
    package let prefix: String
    package let region: String
    /// Everything before the key: `http://127.0.0.1:9000/bucket` or `https://bucket.s3.REGION.amazonaws.com`.
    let base: String
    let credentials: AWSCredentialProvider
    let client: HTTPClient
    /// `max-keys` of each ListObjectsV2 page (nil: the server's default, 1000). Tests make it
    /// small to exercise continuation tokens.
    package var listPageSize: Int?

    package var uri: String { BucketURI(bucket: bucket, prefix: prefix).display(scheme: "s3") }

    /// - Parameter endpoint: an S3-compatible endpoint URL (path-style), or nil for AWS.
    package init(
        bucket: String, prefix: String = "", region: String = "us-east-1", endpoint: String? = nil,
        credentials: Credentials?, configuration: TransportConfiguration = TransportConfiguration()
    ) throws {
        try self.init(
            bucket: bucket, prefix: prefix, region: region, endpoint: endpoint,
            provider: AWSCredentialProvider(credentials), configuration: configuration)
    }

    /// - Parameter provider: where credentials come from (static, or fetched and refreshed).
    package init(
        bucket: String, prefix: String = "", region: String = "us-east-1", endpoint: String? = nil,
        provider: AWSCredentialProvider, configuration: TransportConfiguration = TransportConfiguration()
    ) throws {
        let parsed = try BucketURI("s3://\(bucket)/\(prefix)", scheme: "s3")
        self.bucket = parsed.bucket
        self.prefix = parsed.prefix
        self.region = region
        if var endpoint, !endpoint.isEmpty {
            while endpoint.hasSuffix("/") { endpoint.removeLast() }
            guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                throw ObjectStoreError(.invalidURI, "the S3 endpoint '\(endpoint)' must start with http:// or https://")
            }
            base = endpoint + "/" + bucket
        } else if bucket.contains(".") {
            base = "https://s3.\(region).amazonaws.com/\(bucket)"
        } else {
            base = "https://\(bucket).s3.\(region).amazonaws.com"
        }
        self.credentials = provider
        self.client = HTTPClient(configuration: configuration)
    }

    /// The store for `s3://bucket/prefix`, configured from the environment (see the type).
    package init(uri: String, environment: [String: String]) throws {
        let parsed = try BucketURI(uri, scheme: "s3")
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1"
        let transport = try TransportConfiguration(environment: environment)
        let source = try AWSCredentialSource(environment: environment, region: region)
        try self.init(
            bucket: parsed.bucket, prefix: parsed.prefix, region: region,
            endpoint: env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL"),
            provider: AWSCredentialProvider(source: source, caFile: transport.caFile), configuration: transport)
    }

    package func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        try ObjectKey.validateKey(key)
        let request = try makeRequest("GET", path: prefix + key, display: display(key))
        let response = try client.stream(request, range: range, into: consumer)
        guard response.isSuccess else {
            if response.status == 404 { throw ObjectStoreError(.notFound, "\(display(key)) does not exist") }
            throw failed(response, "GET", display(key))
        }
    }

    package func stat(_ key: String) throws -> ObjectInfo? {
        try ObjectKey.validateKey(key)
        let response = try client.send(makeRequest("HEAD", path: prefix + key, display: display(key)))
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw failed(response, "HEAD", display(key)) }
        guard let size = response.contentLength else {
            throw ObjectStoreError(.malformed, "HEAD \(display(key)): no Content-Length in the answer")
        }
        return ObjectInfo(size: size, etag: response.header("etag"))
    }

    package func put(_ key: String, bytes: [UInt8], contentType: String) throws {
        try ObjectKey.validateKey(key)
        let request = try makeRequest(
            "PUT", path: prefix + key, display: display(key), body: bytes, contentType: contentType)
        let response = try client.send(request)
        guard response.isSuccess else { throw failed(response, "PUT", display(key)) }
    }

    /// ListObjectsV2, following continuation tokens until the listing is complete.
    package func list(prefix listPrefix: String) throws -> [String] {
        try ObjectKey.validatePrefix(listPrefix)
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix + listPrefix)]
            if let token { query.append(("continuation-token", token)) }
            if let listPageSize { query.append(("max-keys", String(listPageSize))) }
            let request = try makeRequest("GET", path: "", query: query, display: display(listPrefix) + "*")
            let response = try client.send(request)
            guard response.isSuccess else { throw failed(response, "LIST", display(listPrefix) + "*") }
            let xml = String(decoding: response.body, as: UTF8.self)
            guard xml.contains("<ListBucketResult") else {
                throw ObjectStoreError(.malformed, "LIST \(display(listPrefix))*: the answer is not a ListBucketResult")
            }
            for key in XMLScanner.elements("Key", in: xml) where key.hasPrefix(prefix) {
                keys.append(String(key.dropFirst(prefix.count)))
            }
            let truncated = XMLScanner.elements("IsTruncated", in: xml).first == "true"
            token = truncated ? XMLScanner.elements("NextContinuationToken", in: xml).first : nil
            if truncated && token == nil {
                throw ObjectStoreError(
                    .malformed, "LIST \(display(listPrefix))*: truncated listing without a continuation token")
            }
        } while token != nil
        return keys
    }

    private func display(_ key: String) -> String { uri + "/" + key }

    /// The error for a failed answer. A refusal of the credentials (401, 403, or a 400 about
    /// the session token: `ExpiredToken`, `InvalidToken`) says which credentials were refused
    /// and drops fetched ones, so the next request fetches anew (they may have been revoked).
    private func failed(_ response: HTTPResponse, _ method: String, _ display: String) -> ObjectStoreError {
        var error = response.error(method, display)
        if Self.refusesCredentials(response) {
            error.code = .unauthorized
            credentials.invalidate()
            error.message += "; credentials: \(credentials.source.summary)"
            if credentials.source == .anonymous || credentials.source.isInstanceMetadata {
                error.message += AWSCredentialSource.chainHint
            }
        }
        return error
    }

    /// 401, 403, or S3's 400 answers about the session token.
    static func refusesCredentials(_ response: HTTPResponse) -> Bool {
        if response.status == 401 || response.status == 403 { return true }
        guard response.status == 400 else { return false }
        let code = XMLScanner.elements("Code", in: String(decoding: response.body.prefix(4096), as: UTF8.self)).first
        return ["ExpiredToken", "InvalidToken", "TokenRefreshRequired", "InvalidAccessKeyId"].contains(code ?? "")
    }

    /// A signed request for `path` (the whole object key, store prefix included).
    func makeRequest(
        _ method: String, path: String, query: [(String, String)] = [], display: String,
        body: [UInt8]? = nil, contentType: String? = nil
    ) throws -> HTTPRequest {
        var url = base + "/" + URIEncoding.encode(path, keepSlash: true)
        if !query.isEmpty { url += "?" + URIEncoding.query(query) }
        var request = HTTPRequest(method: method, url: url, display: display, body: body)
        let payloadHash = body.map { SHA256Digest.hex(of: $0) } ?? "UNSIGNED-PAYLOAD"
        request.headers.append(("x-amz-content-sha256", payloadHash))
        if let contentType { request.headers.append(("Content-Type", contentType)) }
        if let credentials = try credentials.credentials() {
            request.awsSigV4 = "aws:amz:\(region):s3"
            request.username = credentials.accessKeyID
            request.password = credentials.secretAccessKey
            if let token = credentials.sessionToken { request.headers.append(("x-amz-security-token", token)) }
        }
        return request
    }
}
