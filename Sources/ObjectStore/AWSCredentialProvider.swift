import FoundationEssentials
import Synchronization

/// Hands `S3ObjectStore` the credentials of its `AWSCredentialSource`: static keys as they
/// are; role credentials (web identity, container, instance metadata) fetched on first use,
/// cached, and refreshed before they expire (`CredentialCache`), one fetch at a time.
///
/// Instance metadata is the chain's last resort and may not exist: when its endpoint does not
/// answer within a second (or has no role), requests go unsigned and that answer is kept, so
/// later requests do not probe again.
package final class AWSCredentialProvider: Sendable {
    package let source: AWSCredentialSource
    private let cache: CredentialCache<S3ObjectStore.Credentials?>?
    private let fixed: S3ObjectStore.Credentials?

    /// Static credentials (or none), no fetching.
    package convenience init(_ credentials: S3ObjectStore.Credentials?) {
        self.init(source: credentials.map { .environment($0) } ?? .anonymous)
    }

    /// - Parameters:
    ///   - now: wall-clock seconds since 1970 (tests inject a clock).
    ///   - caFile: the PEM bundle for https credential endpoints (`MSCR_STORE_CA_FILE`).
    package init(
        source: AWSCredentialSource, caFile: String? = nil, now: @escaping @Sendable () -> Double = WallClock.seconds
    ) {
        self.source = source
        let fetcher = AWSCredentialFetcher(caFile: caFile, now: now)
        switch source {
        case .anonymous:
            fixed = nil
            cache = nil
        case .environment(let credentials):
            fixed = credentials
            cache = nil
        case .webIdentity, .container, .instanceMetadata:
            fixed = nil
            let unavailable = Mutex(false)
            cache = CredentialCache(source: source.summary, now: now) {
                if unavailable.withLock({ $0 }) { return (nil, nil) }
                guard let fetched = try fetcher.fetch(source) else {
                    // Only instance metadata can be absent; remember it, never probe again.
                    unavailable.withLock { $0 = true }
                    return (nil, nil)
                }
                return (fetched.credentials, fetched.expiration)
            }
        }
    }

    /// The credentials to sign with, or nil to send unsigned requests.
    package func credentials() throws -> S3ObjectStore.Credentials? {
        if let cache { return try cache.get() }
        return fixed
    }

    /// Forgets fetched credentials (S3 refused them); the next request fetches anew.
    package func invalidate() {
        cache?.invalidate()
    }
}

/// One fetch of role credentials from STS, the container endpoint or instance metadata.
struct AWSCredentialFetcher: Sendable {
    let client: HTTPClient
    /// Instance metadata: one short attempt, so a start off EC2 stays fast.
    let probe: HTTPClient
    let now: @Sendable () -> Double

    init(caFile: String?, now: @escaping @Sendable () -> Double) {
        var configuration = TransportConfiguration()
        configuration.maxAttempts = 3
        configuration.deadline = 15
        configuration.connectTimeout = 3
        configuration.stallTimeout = 5
        configuration.caFile = caFile
        client = HTTPClient(configuration: configuration)
        var quick = TransportConfiguration.once(timeout: 1)
        quick.connectTimeout = 1
        probe = HTTPClient(configuration: quick)
        self.now = now
    }

    /// Credentials and their expiration; nil when instance metadata is not there.
    func fetch(_ source: AWSCredentialSource) throws -> (credentials: S3ObjectStore.Credentials, expiration: Double?)? {
        switch source {
        case .anonymous, .environment: return nil
        case .webIdentity(let tokenFile, let role, let session, let sts, _):
            return try webIdentity(tokenFile: tokenFile, roleARN: role, sessionName: session, sts: sts)
        case .container(let url, let authorization):
            return try container(url: url, authorization: authorization)
        case .instanceMetadata(let endpoint):
            return try instanceMetadata(endpoint)
        }
    }

    private func webIdentity(tokenFile: String, roleARN: String, sessionName: String, sts: String) throws -> (
        credentials: S3ObjectStore.Credentials, expiration: Double?
    ) {
        let what = "web identity (STS AssumeRoleWithWebIdentity at \(sts), role \(roleARN))"
        let token = try Self.readToken(tokenFile, variable: "AWS_WEB_IDENTITY_TOKEN_FILE")
        let form = URIEncoding.query([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ])
        let request = HTTPRequest(
            method: "POST", url: sts + "/", display: what,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/xml")],
            body: Array(form.utf8))
        let response = try send(request, what: what, hint: "check AWS_ENDPOINT_URL_STS (or AWS_REGION) and the network")
        guard response.isSuccess else {
            throw ObjectStoreError(
                .unauthorized,
                "\(what) refused the token from AWS_WEB_IDENTITY_TOKEN_FILE: \(response.error("POST", "STS").message); check AWS_ROLE_ARN and the role's trust policy"
            )
        }
        return try AWSCredentialDocuments.parseSTS(String(decoding: response.body, as: UTF8.self), what: what)
    }

    private func container(url: String, authorization: AWSCredentialSource.ContainerAuthorization?) throws -> (
        credentials: S3ObjectStore.Credentials, expiration: Double?
    ) {
        let what = "the container credentials endpoint \(url)"
        var request = HTTPRequest(method: "GET", url: url, display: what, headers: [("Accept", "application/json")])
        switch authorization {
        case .file(let path):
            request.headers.append(
                ("Authorization", try Self.readToken(path, variable: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")))
        case .token(let token): request.headers.append(("Authorization", token))
        case nil: break
        }
        let response = try send(request, what: what, hint: "check AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI")
        guard response.isSuccess else {
            throw ObjectStoreError(
                .unauthorized,
                "\(what) refused: \(response.error("GET", url).message); check AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) and the task role"
            )
        }
        return try AWSCredentialDocuments.parseJSON(response.body, what: what)
    }

    /// nil when the endpoint does not answer the token request (not on EC2) or has no role.
    private func instanceMetadata(_ endpoint: String) throws -> (
        credentials: S3ObjectStore.Credentials, expiration: Double?
    )? {
        let what = "EC2 instance metadata (IMDSv2) at \(endpoint)"
        let tokenRequest = HTTPRequest(
            method: "PUT", url: endpoint + "/latest/api/token", display: what,
            headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], body: [])
        guard let tokenAnswer = try? probe.send(tokenRequest), tokenAnswer.isSuccess, !tokenAnswer.body.isEmpty else {
            return nil
        }
        let token = String(decoding: tokenAnswer.body, as: UTF8.self).trimmingSpaces
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        let header = [(name: "X-aws-ec2-metadata-token", value: token)]
        let roles = try send(
            HTTPRequest(method: "GET", url: base, display: what, headers: header), what: what, hint: "")
        if roles.status == 404 { return nil }
        guard roles.isSuccess else {
            throw ObjectStoreError(.unauthorized, "\(what): \(roles.error("GET", base).message)")
        }
        guard
            let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first?
                .trimmingSpaces,
            !role.isEmpty
        else { return nil }
        let answer = try send(
            HTTPRequest(method: "GET", url: base + role, display: what, headers: header), what: what, hint: "")
        guard answer.isSuccess else {
            throw ObjectStoreError(.unauthorized, "\(what): role \(role): \(answer.error("GET", base + role).message)")
        }
        return try AWSCredentialDocuments.parseJSON(answer.body, what: "\(what) (role \(role))")
    }

    private func send(_ request: HTTPRequest, what: String, hint: String) throws -> HTTPResponse {
        do {
            return try client.send(request)
        } catch let error as ObjectStoreError {
            throw ObjectStoreError(
                .unauthorized,
                "no AWS credentials: \(what) did not answer: \(error.message)" + (hint.isEmpty ? "" : "; \(hint)"),
                underlying: error)
        }
    }

    static func readToken(_ path: String, variable: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ObjectStoreError(.configuration, "\(variable) '\(path)' cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingSpaces
        guard !token.isEmpty else { throw ObjectStoreError(.configuration, "\(variable) '\(path)' is empty") }
        return token
    }
}
