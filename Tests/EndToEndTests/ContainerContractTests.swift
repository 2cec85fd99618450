import Foundation
import ObjectStore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("The real binary: the container contract", .serialized)
struct ContainerContractTests {
    @Test("listens on $PORT, answers /healthz, logs JSON lines that carry the trace id")
    func healthAndLogs() async throws {
        let repo = try TestRepository()
        defer { repo.cleanup() }
        var env = repo.environment
        env["GOOGLE_CLOUD_PROJECT"] = "my-project"
        env["K_SERVICE"] = "mscr-svc"
        env["K_REVISION"] = "mscr-svc-00001"
        env["LOG_LEVEL"] = "debug"
        let server = try ServerProcess(environment: env)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let trace = "105445aa7843bc8bf206b12000100000"
        let (_, r) = try await HTTP.request(
            "\(server.baseURL)/functions/t", method: "POST", body: Data("x".utf8),
            headers: ["X-Cloud-Trace-Context": "\(trace)/1;o=1"])
        #expect(r.statusCode == 200)
        let (body, f) = try await HTTP.request("\(server.baseURL)/functions")
        #expect(f.statusCode == 200)
        #expect((HTTP.json(body)["service"] as? [String: String])?["K_SERVICE"] == "mscr-svc")
        let traceField = "\"projects/my-project/traces/\(trace)\""
        try await waitUntil(timeout: .seconds(10), "a log line with the request's trace") {
            server.lines.contains { $0.contains(traceField) }
        }
        let objects = server.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(objects.count == server.lines.count, "every stdout line is one JSON object: \(server.lines)")
        #expect(objects.allSatisfy { $0["severity"] is String && $0["message"] is String && $0["time"] is String })
        let start = objects.first { ($0["message"] as? String) == "listening" }
        #expect(start?["K_REVISION"] as? String == "mscr-svc-00001")
        #expect(start?["bound_port"] as? String == String(server.port))
        let traced = objects.filter {
            ($0["logging.googleapis.com/trace"] as? String) == "projects/my-project/traces/\(trace)"
        }
        #expect(!traced.isEmpty, "a log line of the request carries its trace: \(server.lines)")
    }

    @Test("SIGTERM during a slow request: it finishes with 200 and the process exits 0")
    func gracefulShutdown() async throws {
        let repo = try TestRepository()
        defer { repo.cleanup() }
        var env = repo.environment
        env["MSCR_SHUTDOWN_GRACE"] = "8"
        let server = try ServerProcess(environment: env)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        _ = try await HTTP.request("\(server.baseURL)/functions/t", method: "POST")  // warm
        async let slow = HTTP.request("\(server.baseURL)/functions/t?sleep_ms=1500", method: "POST")
        try await waitUntil(timeout: .seconds(10), "the slow request to be in flight") {
            try await server.inflight() == 1
        }
        let sent = ContinuousClock.now
        server.signal(SIGTERM)
        let (data, response) = try await slow
        #expect(response.statusCode == 200)
        #expect(HTTP.json(data)["text"] as? String == "hello")
        let status = try await server.waitForExit(timeout: .seconds(9))
        #expect(status == 0)
        #expect(ContinuousClock.now - sent < .seconds(8))
        #expect(server.lines.contains { $0.contains("\"stopped\"") })
    }

    @Test("a load that fails answers 503 + Retry-After; once the model is fixed a later request loads it")
    func failedLoadThenRecovery() async throws {
        let repo = try TestRepository(modelText: "fail")
        defer { repo.cleanup() }
        let server = try ServerProcess(environment: repo.environment)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let (body, r) = try await HTTP.request("\(server.baseURL)/functions/t", method: "POST")
        #expect(r.statusCode == 503)
        let retryAfter = Int(r.value(forHTTPHeaderField: "Retry-After") ?? "") ?? 0
        #expect(retryAfter >= 1)
        #expect(((HTTP.json(body)["error"] as? [String: Any])?["message"] as? String)?.contains("fail") == true)
        // Fix the cause: publish a good version 2.
        try ObjectStoreFixer.publishGood(repo)
        // Retry until the backoff has passed; meanwhile every answer is a 503 with Retry-After.
        var okBody = Data()
        try await waitUntil(timeout: .seconds(30), "a 200 after the model was fixed") {
            let (body, r) = try await HTTP.request("\(server.baseURL)/functions/t", method: "POST")
            guard r.statusCode != 200 else {
                okBody = body
                return true
            }
            #expect(r.statusCode == 503 && r.value(forHTTPHeaderField: "Retry-After") != nil)
            return false
        }
        #expect((HTTP.json(okBody)["model"] as? [String: Any])?["version"] as? Int == 2)
    }

    @Test("over the concurrency limit: 429 with Retry-After on a real socket")
    func overLimit() async throws {
        let repo = try TestRepository(concurrency: 1)
        defer { repo.cleanup() }
        var env = repo.environment
        env["MSCR_QUEUE_DEPTH"] = "1"
        let server = try ServerProcess(environment: env)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        _ = try await HTTP.request("\(server.baseURL)/functions/t", method: "POST")
        // One request runs (long enough to outlast the test), one waits in the queue's one
        // place, checked on the server's own count; every further request is then turned away.
        async let running = HTTP.request("\(server.baseURL)/functions/t?sleep_ms=3000", method: "POST")
        try await waitUntil(timeout: .seconds(10), "one request in flight") { try await server.inflight() == 1 }
        async let queued = HTTP.request("\(server.baseURL)/functions/t", method: "POST")
        try await waitUntil(timeout: .seconds(10), "a second request waiting") { try await server.inflight() == 2 }
        let rejected = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let (_, r) = try await HTTP.request("\(server.baseURL)/functions/t", method: "POST")
                    return (r.statusCode, r.value(forHTTPHeaderField: "Retry-After"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(rejected.allSatisfy { $0.0 == 429 && $0.1 != nil }, "\(rejected)")
        #expect(try await running.1.statusCode == 200)
        #expect(try await queued.1.statusCode == 200)
    }
}

enum ObjectStoreFixer {
    static func publishGood(_ repo: TestRepository) throws {
        try ModelRepository(store: FileObjectStore(root: repo.models))
            .publish(model: "t-model", format: "test", files: ["model.txt": Array("fixed".utf8)])
    }
}
