import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Runtime
import Testing

@Suite("HTTP routes (router level)")
struct RouterTests {
    @Test("health, readiness and the function list follow a cold start")
    func healthAndReadiness() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.cleanup() }
        let server = try fixture.server { $0.service = ["K_SERVICE": "svc", "K_REVISION": "svc-001"] }
        let app = server.makeApplication(router: server.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz?function=t", method: .get) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.headers[.retryAfter] != nil)
            }
            try await client.execute(uri: "/functions", method: .get) { r in
                let rows = r.json["functions"] as? [[String: Any]] ?? []
                #expect(rows.count == 1)
                #expect(rows.first?["state"] as? String == "cold")
                #expect((r.json["service"] as? [String: String])?["K_REVISION"] == "svc-001")
            }
            try await client.execute(uri: "/functions/t", method: .post, body: ByteBuffer(string: "abc")) { r in
                #expect(r.status == .ok)
                #expect(r.json["bytes"] as? Int == 3)
                #expect(r.json["text"] as? String == "hello")
                let timing = r.headers[HTTPField.Name("Server-Timing")!] ?? ""
                #expect(timing.contains("cold;dur="))
                #expect(timing.contains("fetch;dur="))
                #expect(timing.contains("parse;dur="))
                #expect(timing.contains("infer;dur="))
                #expect(timing.contains("total;dur="))
            }
            try await client.execute(uri: "/functions/t", method: .post, body: ByteBuffer(string: "abc")) { r in
                #expect(!(r.headers[HTTPField.Name("Server-Timing")!] ?? "").contains("cold;"))
            }
            try await client.execute(uri: "/readyz?function=t", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/functions", method: .get) { r in
                let row = (r.json["functions"] as? [[String: Any]])?.first ?? [:]
                #expect(row["state"] as? String == "warm")
                #expect(row["version"] as? Int == 1)
                #expect(row["requests"] as? Int == 2)
                let load = row["load"] as? [String: Any] ?? [:]
                #expect(load["bytes"] as? Int == 5 + fixture.manifestSize, "model.txt and its manifest")
                #expect(load["fetch_ms"] is Double)
                #expect(load["parse_ms"] is Double)
            }
        }
    }

    @Test("errors are JSON with the documented statuses")
    func errors() async throws {
        let fixture = try RuntimeFixture(maxBodyBytes: 10)
        defer { fixture.cleanup() }
        let server = try fixture.server()
        let app = server.makeApplication(router: server.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/functions/nope", method: .post) { r in
                #expect(r.status == .notFound)
                let error = r.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == "not_found")
                #expect((error?["message"] as? String)?.contains("nope") == true)
            }
            try await client.execute(
                uri: "/functions/t", method: .post, body: ByteBuffer(bytes: [UInt8](repeating: 1, count: 11))
            ) { r in
                #expect(r.status == .contentTooLarge)
                #expect((r.json["error"] as? [String: Any])?["code"] as? String == "payload_too_large")
            }
            try await client.execute(uri: "/functions/t?fail=1", method: .post) { r in
                #expect(r.status == .badRequest)
                #expect(r.headers[.contentType] == "application/json")
            }
            try await client.execute(uri: "/no/such/route", method: .get) { r in
                #expect(r.status == .notFound)
                #expect((r.json["error"] as? [String: Any])?["code"] as? String == "not_found")
            }
        }
    }

    @Test("admin reload needs the bearer token, compared in full")
    func adminReload() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.cleanup() }
        let server = try fixture.server()
        let app = server.makeApplication(router: server.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/admin/functions/t/reload", method: .post) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(
                uri: "/admin/functions/t/reload", method: .post, headers: [.authorization: "Bearer s3cret-toke"]
            ) { #expect($0.status == .unauthorized) }
            try await client.execute(
                uri: "/admin/functions/t/reload", method: .post, headers: [.authorization: "Bearer s3cret-token"]
            ) { r in
                #expect(r.status == .ok)
                #expect(r.json["version"] as? Int == 1)
            }
        }
        // No token configured: no admin routes at all.
        let open = try fixture.server { $0.adminToken = nil }
        try await open.makeApplication(router: open.makeRouter()).test(.router) { client in
            try await client.execute(
                uri: "/admin/functions/t/reload", method: .post, headers: [.authorization: "Bearer x"]
            ) { #expect($0.status == .notFound) }
        }
    }

    @Test("/metrics is Prometheus text with request, latency and load families")
    func metrics() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.cleanup() }
        let server = try fixture.server()
        let app = server.makeApplication(router: server.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/functions/t", method: .post) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                let samples = try PrometheusText.parse(r.text)
                #expect(samples["mscr_requests_total{function=\"t\",status=\"200\"}"] == 1)
                #expect(samples["mscr_request_duration_seconds_count{function=\"t\"}"] == 1)
                #expect(samples["mscr_model_load_seconds_count{function=\"t\"}"] == 1)
                #expect(samples["mscr_model_bytes_fetched_total{function=\"t\"}"] == Double(5 + fixture.manifestSize))
                #expect(samples["mscr_inflight_requests"] == 0)
                #expect(samples["mscr_queued_requests"] == 0)
            }
        }
    }
}
