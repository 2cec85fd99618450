import ArgumentParser
import Common
import FoundationEssentials
import ObjectStore

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP options every client command shares: headers, TLS, timeouts.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("header"), help: "An extra request header 'Name: value' (repeatable), e.g. Authorization.")
    var headers: [String] = []
    @Flag(help: "Do not verify the server's TLS certificate (self-signed test servers).")
    var insecure = false
    @Option(help: "PEM file of CA certificates to trust for HTTPS (instead of the system's).")
    var cacert: String?
    @Option(help: "Seconds one request may take.")
    var timeout: Double = 60
    @Option(help: "Seconds to establish a connection (TCP and TLS).")
    var connectTimeout: Double = 10

    func validate() throws {
        _ = try parsedHeaders()
        guard timeout > 0, connectTimeout > 0 else {
            throw ValidationError("--timeout and --connect-timeout must be > 0")
        }
        if let cacert, !FileManager.default.fileExists(atPath: cacert) {
            throw ValidationError("--cacert \(cacert): no such file")
        }
    }

    var clientOptions: TimedHTTPClient.Options {
        TimedHTTPClient.Options(insecure: insecure, caFile: cacert, timeout: timeout, connectTimeout: connectTimeout)
    }

    /// `Name: value` pairs, in order.
    func parsedHeaders() throws -> [(name: String, value: String)] {
        try headers.map { raw in
            guard let colon = raw.firstIndex(of: ":") else {
                throw ValidationError("--header '\(raw)' is not 'Name: value'")
            }
            let name = raw[..<colon].trimmingSpaces
            guard !name.isEmpty, !name.contains(" ") else {
                throw ValidationError("--header '\(raw)' has no valid name")
            }
            return (name, raw[raw.index(after: colon)...].trimmingSpaces)
        }
    }
}

/// Where a function lives: `<base>/functions/<name>`, or `<base><path>` when a path is given
/// (another server's route, such as the original stack's `/predict`), plus query items.
enum FunctionURL {
    static func make(base: String, function: String, path: String? = nil, query: [String] = []) throws -> String {
        guard let scheme = base.firstRange(of: "://"),
            ["http", "https"].contains(base[..<scheme.lowerBound].lowercased())
        else {
            throw ValidationError("'\(base)' is not an http:// or https:// URL")
        }
        var root = base
        while root.hasSuffix("/") { root.removeLast() }
        var url = root + (path.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "/functions/\(function)")
        for item in query {
            guard item.contains("=") else { throw ValidationError("--query '\(item)' is not key=value") }
            url += (url.contains("?") ? "&" : "?") + encode(item)
        }
        return url
    }

    /// `key=value` with both sides percent-encoded (the `=` between them kept).
    static func encode(_ item: String) -> String {
        let equals = item.firstIndex(of: "=") ?? item.endIndex
        let key = URIEncoding.encode(String(item[..<equals]), keepSlash: false)
        guard equals < item.endIndex else { return key }
        return key + "=" + URIEncoding.encode(String(item[item.index(after: equals)...]), keepSlash: false)
    }

    /// `scheme://host[:port]` of a URL (for `/healthz`).
    static func origin(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        return String(url[..<end])
    }
}

/// A monotonic clock in milliseconds.
enum Stopwatch {
    static func ms() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    /// Sleeps the calling thread.
    static func sleep(ms: Double) {
        guard ms > 0 else { return }
        var ts = timespec(tv_sec: Int(ms / 1000), tv_nsec: Int((ms.truncatingRemainder(dividingBy: 1000)) * 1e6))
        var rest = timespec()
        while nanosleep(&ts, &rest) == -1 && errno == EINTR { ts = rest }
    }
}
