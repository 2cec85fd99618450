import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `mscr` binary started as a subprocess on a free loopback port, with its stdout
/// captured line by line.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let output = Mutex<[String]>([])
    private let partial = Mutex<String>("")

    /// The built `mscr` next to the test bundle (or `MSCR_BINARY`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["MSCR_BINARY"] { return path }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("mscr").path
    }

    /// The repository root (for ../shared and functions/).
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    static var sharedRoot: String { repositoryRoot + "/../shared" }

    /// A port that was free a moment ago (the kernel's pick for port 0).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    init(arguments: [String] = ["serve"], environment: [String: String]) throws {
        port = Self.freePort()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["PORT"] = String(port)
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            let text = String(decoding: data, as: UTF8.self)
            let lines: [String] = self.partial.withLock { partial in
                partial += text
                var parts = partial.components(separatedBy: "\n")
                partial = parts.removeLast()
                return parts
            }
            if !lines.isEmpty { self.output.withLock { $0.append(contentsOf: lines) } }
        }
        try process.run()
    }

    var lines: [String] { output.withLock { $0 } }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Waits until `/healthz` answers 200; fails at once if the process exits.
    func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        try await waitUntil(timeout: timeout, "/healthz to answer 200") {
            if !process.isRunning { throw HTTPTestError("the server exited with \(process.terminationStatus)") }
            return (try? await HTTP.request("\(baseURL)/healthz"))?.1.statusCode == 200
        }
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration) async throws -> Int32 {
        try await waitUntil(timeout: timeout, "the server to exit") { !process.isRunning }
        return process.terminationStatus
    }

    /// The instance's requests in flight, as `GET /functions` reports them.
    func inflight() async throws -> Int {
        let (body, _) = try await HTTP.request("\(baseURL)/functions")
        return try #require((HTTP.json(body)["instance"] as? [String: Any])?["inflight"] as? Int)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

struct HTTPTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum HTTP {
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 60
        c.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: c)
    }()

    static func request(
        _ url: String, method: String = "GET", body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw HTTPTestError("not HTTP") }
        return (data, http)
    }

    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }
}
