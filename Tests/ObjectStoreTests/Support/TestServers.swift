import Foundation
import ObjectStore

#if canImport(Glibc)
import Glibc
#endif

/// A failure to set up a real component for the tests (not a failure of the code under test).
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// Paths of the repository the tests run in.
enum Repo {
    /// `<repo>`, from this file's path (`<repo>/Tests/ObjectStoreTests/Support/TestServers.swift`).
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `<repo>/../shared/data`.
    static let sharedData: String = URL(fileURLWithPath: root).deletingLastPathComponent().path + "/shared/data"

    /// The venv's python; the tests fail (never skip) without it.
    static func python() throws -> String {
        let path = root + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: path),
            FileManager.default.isExecutableFile(atPath: root + "/.venv/bin/moto_server"),
            FileManager.default.isExecutableFile(atPath: root + "/.venv/bin/gcp-storage-emulator")
        else {
            throw TestSetupError(
                description: """
                    the ObjectStore tests need moto, gcp-storage-emulator and boto3 in \(root)/.venv; create it with:
                      cd \(root) && python3 -m venv .venv && .venv/bin/pip install 'moto[server]' gcp-storage-emulator boto3
                    """)
        }
        return path
    }
}

/// A helper process from `Tests/Support` that prints one JSON line when ready and lives until
/// its stdin closes, which happens when this test process exits, however it exits.
final class ServerProcess: Sendable {
    /// The ready line, decoded: numbers and strings as strings.
    let info: [String: String]
    private let process: Process
    private let stdin: Pipe

    init(script: String, arguments: [String] = [], timeout: Double = 60) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Repo.python())
        process.arguments = ["-u", Repo.root + "/Tests/Support/" + script] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        self.process = process
        self.stdin = stdin
        let line = try ServerProcess.readLine(
            stdout.fileHandleForReading.fileDescriptor, timeout: timeout, script: script)
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestSetupError(description: "\(script) printed '\(line)' instead of a JSON line")
        }
        if let error = object["error"] { throw TestSetupError(description: "\(script) failed: \(error)") }
        info = object.mapValues { "\($0)" }
    }

    var port: Int { Int(info["port"] ?? "") ?? 0 }

    private static func readLine(_ fd: Int32, timeout: Double, script: String) throws -> String {
        var bytes: [UInt8] = []
        let end = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, end.timeIntervalSinceNow) * 1000)
            guard left > 0, poll(&pfd, 1, left) > 0 else {
                throw TestSetupError(description: "\(script) did not get ready within \(Int(timeout)) s")
            }
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { throw TestSetupError(description: "\(script) exited before it was ready") }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}

/// Transport settings for tests: quick backoff, short deadlines.
func testTransport(attempts: Int = 4, deadline: Double = 10, stall: Double = 2) -> TransportConfiguration {
    var configuration = TransportConfiguration()
    configuration.maxAttempts = attempts
    configuration.deadline = deadline
    configuration.stallTimeout = stall
    configuration.connectTimeout = 2
    configuration.backoffBase = 0.02
    configuration.backoffCap = 0.2
    return configuration
}

/// A unique name for objects and models of one test (the servers are shared by parallel tests).
func uniqueName(_ stem: String) -> String {
    "\(stem)-\(UInt32.random(in: 0...UInt32.max))"
}

/// Deterministic pseudo-random bytes.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

/// A fresh temporary directory.
func temporaryDirectory(_ stem: String) throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("mscr-\(uniqueName(stem))")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
