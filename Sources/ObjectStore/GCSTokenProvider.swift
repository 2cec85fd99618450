import Common
import FoundationEssentials

/// Where `gs://` gets its OAuth bearer token: a fixed token (`GOOGLE_OAUTH_ACCESS_TOKEN`), none
/// (the emulator), a service-account key file (`GOOGLE_APPLICATION_CREDENTIALS`: a signed JWT
/// exchanged at the key's `token_uri`), or the GCE/Cloud Run metadata server. Fetched tokens are
/// cached and refreshed before they expire, one fetch at a time (`CredentialCache`).
package final class GCSTokenProvider: Sendable {
    private let cache: CredentialCache<String>?
    private let fixed: String?

    /// No token: requests go unauthenticated (the emulator, public buckets).
    package static let none = GCSTokenProvider(fixed: nil, cache: nil)

    package convenience init(fixed token: String) {
        self.init(fixed: token, cache: nil)
    }

    /// Tokens from the metadata server at `host` (`metadata.google.internal`, or `GCE_METADATA_HOST`).
    package convenience init(metadataHost host: String, now: @escaping @Sendable () -> Double = WallClock.seconds) {
        let base = host.hasPrefix("http://") || host.hasPrefix("https://") ? host : "http://" + host
        let url = base + "/computeMetadata/v1/instance/service-accounts/default/token"
        let client = HTTPClient(configuration: Self.configuration(caFile: nil))
        let what = "metadata server \(url)"
        self.init(
            fixed: nil,
            cache: CredentialCache(source: "the \(what)", now: now) {
                try Self.fetchMetadata(url, what: what, client: client, now: now())
            })
    }

    /// Tokens for a service-account key: a fresh RS256 JWT exchanged at its `token_uri`.
    package convenience init(
        serviceAccount key: ServiceAccountKey, caFile: String? = nil,
        now: @escaping @Sendable () -> Double = WallClock.seconds
    ) {
        let client = HTTPClient(configuration: Self.configuration(caFile: caFile))
        self.init(
            fixed: nil,
            cache: CredentialCache(source: "the token endpoint \(key.tokenURI)", now: now) {
                try key.fetchToken(client: client, now: now())
            })
    }

    private init(fixed: String?, cache: CredentialCache<String>?) {
        self.fixed = fixed
        self.cache = cache
    }

    private static func configuration(caFile: String?) -> TransportConfiguration {
        var configuration = TransportConfiguration()
        configuration.maxAttempts = 3
        configuration.deadline = 15
        configuration.connectTimeout = 3
        configuration.stallTimeout = 5
        configuration.caFile = caFile
        return configuration
    }

    /// The token to send, or nil for none.
    package func token() throws -> String? {
        if let cache { return try cache.get() }
        return fixed
    }

    /// Forgets the cached token (the server refused it).
    package func invalidate() {
        cache?.invalidate()
    }

    private static func fetchMetadata(_ url: String, what: String, client: HTTPClient, now: Double) throws -> (
        value: String, expiration: Double?
    ) {
        var request = HTTPRequest(method: "GET", url: url, display: what, headers: [("Metadata-Flavor", "Google")])
        request.followRedirects = false
        let response: HTTPResponse
        do {
            response = try client.send(request)
        } catch let error as ObjectStoreError {
            throw ObjectStoreError(
                .unauthorized,
                "no Google credentials: GOOGLE_OAUTH_ACCESS_TOKEN and GOOGLE_APPLICATION_CREDENTIALS are not set and the \(what) did not answer (not on GCP? set GCE_METADATA_HOST for a local one)",
                underlying: error)
        }
        guard response.isSuccess else {
            throw ObjectStoreError(.unauthorized, "the \(what) refused a token: \(response.error("GET", what).message)")
        }
        return try parseToken(response.body, what: "the \(what)", now: now)
    }

    /// `{"access_token": "…", "expires_in": seconds}` (metadata server, OAuth token endpoint):
    /// the token and its expiration (`now` + `expires_in`, 300 s when missing).
    package static func parseToken(_ body: [UInt8], what: String, now: Double) throws -> (
        value: String, expiration: Double?
    ) {
        /// `expires_in` is a number, or a numeric string from some servers.
        struct Lifetime: Decodable {
            var seconds: Double?
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                seconds = (try? c.decode(Double.self)) ?? (try? c.decode(String.self)).flatMap(Double.init)
            }
        }
        struct Answer: Decodable {
            var access_token: String?
            var expires_in: Lifetime?
        }
        guard let object = try? JSONDecoder().decode(Answer.self, from: Data(body)), let token = object.access_token,
            !token.isEmpty
        else {
            throw ObjectStoreError(.malformed, "\(what) answered without an access_token")
        }
        let life = object.expires_in?.seconds ?? 300
        return (token, now + max(1, life))
    }
}
