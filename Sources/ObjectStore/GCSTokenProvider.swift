import FoundationEssentials
import Synchronization

/// Where `gs://` gets its OAuth bearer token: a fixed token (`GOOGLE_OAUTH_ACCESS_TOKEN`), none
/// (the emulator), or the GCE/Cloud Run metadata server, whose token is cached until shortly
/// before it expires (a minute, or half its life when it is shorter than two minutes).
package final class GCSTokenProvider: Sendable {
    private enum Source {
        case none
        case fixed(String)
        case metadata(url: String)
    }

    private let source: Source
    private let client: HTTPClient
    /// The cached metadata token and when to refresh it (monotonic seconds). Held while
    /// fetching, so concurrent callers wait for one fetch instead of each making their own.
    private let cached = Mutex<(token: String, refreshAt: Double)?>(nil)

    /// No token: requests go unauthenticated (the emulator, public buckets).
    package static let none = GCSTokenProvider(source: .none)

    package convenience init(fixed token: String) {
        self.init(source: .fixed(token))
    }

    /// Tokens from the metadata server at `host` (`metadata.google.internal`, or `GCE_METADATA_HOST`).
    package convenience init(metadataHost host: String) {
        let base = host.hasPrefix("http://") || host.hasPrefix("https://") ? host : "http://" + host
        self.init(source: .metadata(url: base + "/computeMetadata/v1/instance/service-accounts/default/token"))
    }

    private init(source: Source) {
        self.source = source
        var configuration = TransportConfiguration()
        configuration.maxAttempts = 3
        configuration.deadline = 15
        configuration.connectTimeout = 3
        configuration.stallTimeout = 5
        self.client = HTTPClient(configuration: configuration)
    }

    /// The token to send, or nil for none.
    package func token() throws -> String? {
        switch source {
        case .none: return nil
        case .fixed(let token): return token
        case .metadata(let url):
            return try cached.withLock { entry in
                if let entry, Monotonic.seconds() < entry.refreshAt { return entry.token }
                let fresh = try fetch(url)
                entry = fresh
                return fresh.token
            }
        }
    }

    /// Forgets the cached token (the server refused it).
    package func invalidate() {
        cached.withLock { $0 = nil }
    }

    private func fetch(_ url: String) throws -> (token: String, refreshAt: Double) {
        let display = "metadata server \(url)"
        var request = HTTPRequest(method: "GET", url: url, display: display, headers: [("Metadata-Flavor", "Google")])
        request.followRedirects = false
        let response: HTTPResponse
        do {
            response = try client.send(request)
        } catch let error as ObjectStoreError {
            throw ObjectStoreError(
                .unauthorized,
                "no Google credentials: GOOGLE_OAUTH_ACCESS_TOKEN is not set and the \(display) did not answer (not on GCP? set GCE_METADATA_HOST for a local one)",
                underlying: error)
        }
        guard response.isSuccess else {
            throw ObjectStoreError(.unauthorized, "the \(display) refused a token: \(response.error("GET", display).message)")
        }
        struct Answer: Decodable {
            var access_token: String
            var expires_in: Double?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)), !answer.access_token.isEmpty
        else {
            throw ObjectStoreError(.malformed, "the \(display) answered without an access_token")
        }
        let life = max(0, answer.expires_in ?? 300)
        let margin = life >= 120 ? 60 : life / 2
        return (answer.access_token, Monotonic.seconds() + life - margin)
    }
}
