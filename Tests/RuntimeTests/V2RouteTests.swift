import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Runtime
import Testing

@Suite("V2 protocol: server, health, metadata, readiness (router level)")
struct V2RouteTests {
    @Test("GET /v2 names the server, its version and the binary extension; health is 200")
    func serverMetadataAndHealth() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/v2", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.json["name"] as? String == "mscr")
                #expect((r.json["version"] as? String)?.isEmpty == false)
                #expect((r.json["extensions"] as? [String])?.contains("binary_tensor_data") == true)
            }
            try await client.execute(uri: "/v2/health/live", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v2/health/ready", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("model metadata answers while cold, with every repository version and the kind's tensors")
    func metadataWhileCold() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/v2/models/tt", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.json["name"] as? String == "tt")
                #expect(r.json["versions"] as? [String] == ["1", "2"])
                #expect(r.json["platform"] as? String == "mscr-test-tensor")
                let inputs = r.json["inputs"] as? [[String: Any]] ?? []
                #expect(inputs.map { $0["name"] as? String } == ["x", "s"])
                #expect(inputs.first?["datatype"] as? String == "FP32")
                #expect(inputs.first?["shape"] as? [Int] == [-1, 2])
                let outputs = r.json["outputs"] as? [[String: Any]] ?? []
                #expect(outputs.map { $0["name"] as? String } == ["sum", "lengths", "echo"])
                #expect(outputs.map { $0["datatype"] as? String } == ["FP32", "INT32", "BYTES"])
            }
            try await client.execute(uri: "/v2/models/tt/versions/2", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.json["versions"] as? [String] == ["2"])
            }
            // Still cold: metadata never loads a model.
            try await client.execute(uri: "/functions", method: .get) { r in
                let row = (r.json["functions"] as? [[String: Any]])?.first { $0["name"] as? String == "tt" }
                #expect(row?["state"] as? String == "cold")
            }
        }
    }

    @Test(
        "unknown models, versions and V2 endpoints are 404 with the V2 error shape",
        arguments: [
            "/v2/models/nope", "/v2/models/nope/ready", "/v2/models/t", "/v2/models/tt/versions/3",
            "/v2/models/tt/versions/0", "/v2/models/tt/versions/abc", "/v2/models/tt/versions/3/ready",
            "/v2/models/tt/config", "/v2/repository/index", "/v2/models/tt/versions/1/stats",
        ])
    func unknownModels(uri: String) async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: uri, method: .get) { r in
                #expect(r.status == .notFound)
                #expect(r.headers[.contentType] == "application/json")
                #expect(r.v2Error?.isEmpty == false, "body: \(r.text)")
            }
        }
    }

    @Test("a model is ready (200) once loaded, not ready (400) before; per version too")
    func readiness() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/v2/models/tt/ready", method: .get) { r in
                #expect(r.status == .badRequest)
                #expect(r.v2Error?.contains("not ready") == true)
            }
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: V2Body.tt(x: [[1, 2]], s: ["a"]))
            {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v2/models/tt/ready", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.json["ready"] as? Bool == true)
            }
            try await client.execute(uri: "/v2/models/tt/versions/2/ready", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v2/models/tt/versions/1/ready", method: .get) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test("a model that cannot load answers 503 with Retry-After in the V2 shape")
    func unavailable() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let body = V2Body.tt(x: [[1, 2]], s: ["a"])
            try await client.execute(uri: "/v2/models/broken/infer", method: .post, body: body) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.headers[.retryAfter] != nil)
                #expect(r.v2Error?.contains("fail") == true)
            }
        }
    }

    @Test("GET /openapi.json serves the document kept in the repo, listing native and V2 paths")
    func openAPI() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/openapi.json")
        let kept = try Data(contentsOf: docs)
        try await fixture.test { client in
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/json")
                #expect(Data(r.text.utf8) == kept, "docs/openapi.json and the served document differ")
                let paths = r.json["paths"] as? [String: Any] ?? [:]
                for path in [
                    "/healthz", "/readyz", "/functions", "/functions/detect", "/functions/stock", "/metrics",
                    "/admin/functions/{name}/reload", "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/{name}",
                    "/v2/models/{name}/versions/{version}", "/v2/models/{name}/ready",
                    "/v2/models/{name}/versions/{version}/ready", "/v2/models/{name}/infer",
                    "/v2/models/{name}/versions/{version}/infer",
                ] {
                    #expect(paths[path] != nil, "\(path) is not documented")
                }
            }
        }
    }
}
