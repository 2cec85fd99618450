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
            if status.state == .warm { return try HTTPBody.json(["status": "ready", "function": name]) }
            var response = try HTTPBody.json(
                ["status": status.state.rawValue, "function": name], status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        }
        router.get("/functions") { _, _ -> Response in
            var rows: [[String: Any]] = []
            for s in host.status() {
                var row: [String: Any] = [
                    "name": s.name, "kind": s.kind, "state": s.state.rawValue, "model": s.model,
                    "requests": s.requests, "loads": s.loads, "evictions": s.evictions,
                ]
                row["version"] = s.version ?? JSONNull()
                if let follows = s.follows { row["follows"] = follows }
                if let load = s.load {
                    row["load"] = [
                        "fetch_ms": load.fetchMs.rounded(toPlaces: 3), "parse_ms": load.parseMs.rounded(toPlaces: 3),
                        "total_ms": load.totalMs.rounded(toPlaces: 3), "bytes": load.bytes,
                    ]
                } else {
                    row["load"] = JSONNull()
                }
                if let error = s.error { row["error"] = error }
                if let extra = monitor.status(function: s.name) { row.merge(extra) { a, _ in a } }
                rows.append(row)
            }
            let load = host.load
            return try HTTPBody.json([
                "functions": rows, "service": service,
                "instance": ["inflight": load.active, "queued": load.queued],
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
