import Common
import FoundationEssentials
import Functions
import Hummingbird

extension MSCRServer {
    /// `/healthz`, `/readyz`, `/functions`, `/metrics`.
    func addHealthRoutes(to router: Router<BasicRequestContext>) {
        let host = self.host
        let metrics = self.metrics
        let service = configuration.service
        let monitor = self.monitor
        router.get("/healthz") { _, _ in
            try HTTPBody.json(["status": "ok"])
        }
        router.get("/readyz") { request, _ -> Response in
            guard let name = request.uri.queryParameters["function"].map(String.init) else {
                return try HTTPBody.json(["status": "ready"])
            }
            guard let status = host.status().first(where: { $0.name == name }) else {
                throw FunctionError(.notFound, "no function named '\(name)'")
            }
            if status.state == .warm { return try HTTPBody.json(["status": "ready", "function": name.json]) }
            var response = try HTTPBody.json(
                ["status": status.state.rawValue.json, "function": name.json], status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        }
        router.get("/functions") { _, _ -> Response in
            var rows: [JSONValue] = []
            for s in host.status() {
                var row: [(String, JSONValue)] = [
                    ("name", s.name.json), ("kind", s.kind.json), ("state", s.state.rawValue.json),
                    ("model", s.model.json), ("requests", s.requests.json), ("loads", s.loads.json),
                    ("evictions", s.evictions.json), ("version", s.version.json),
                ]
                if let follows = s.follows { row.append(("follows", follows.json)) }
                let load: JSONValue? = s.load.map { load in
                    [
                        "fetch_ms": load.fetchMs.rounded(toPlaces: 3).json,
                        "parse_ms": load.parseMs.rounded(toPlaces: 3).json,
                        "total_ms": load.totalMs.rounded(toPlaces: 3).json, "bytes": load.bytes.json,
                    ]
                }
                row.append(("load", load ?? .null))
                if let error = s.error { row.append(("error", error.json)) }
                if let extra = monitor.status(function: s.name) { row.append(extra) }
                rows.append(.object(row))
            }
            let load = host.load
            return try HTTPBody.json([
                "functions": .array(rows), "service": service.json,
                "instance": ["inflight": load.active.json, "queued": load.queued.json],
            ])
        }
        router.get("/metrics") { _, _ -> Response in
            monitor.updateMetrics(metrics)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(host: host))))
        }
    }
}
