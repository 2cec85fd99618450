import Common
import FoundationEssentials
import ObjectStore

/// One round against a deployed service: quiet for `idle` seconds, one request on a new
/// connection (Cloud Run or Knative may have scaled to zero meanwhile), then warm requests
/// on the same connection.
struct URLRun: Sendable {
    var run: Int
    var firstMs: Double?
    /// DNS + TCP (+ TLS) of the first request's new connection.
    var firstConnectMs: Double?
    var firstServer = ServerTimingHeader(nil)
    var warmMs: [Double] = []
    var warmServerMs: [Double] = []
    var error: String?

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "run": run.json, "first_ms": firstMs.map { $0.rounded(toPlaces: 3) }.json,
            "first_connect_ms": firstConnectMs.map { $0.rounded(toPlaces: 3) }.json,
            "first_cold": firstServer.isCold.json,
            "first_server_timing": firstServer.metrics.reduce(into: [String: JSONValue]()) {
                $0[$1.name] = $1.ms.json
            }.json,
            "warm_ms": warmMs.map { $0.rounded(toPlaces: 3) }.json,
            "warm_server_total_ms": warmServerMs.map { $0.rounded(toPlaces: 3) }.json,
        ]
        if let error { object["error"] = error.json }
        return object.json
    }
}

struct URLColdstart {
    var url: String
    var payload: FunctionPayload
    var headers: [(name: String, value: String)]
    var options: TimedHTTPClient.Options
    var idleSeconds: Double
    var warmRequests: Int

    func run(index: Int) -> URLRun {
        var result = URLRun(run: index)
        if idleSeconds > 0 {
            printError("[run \(index + 1)] \(Format.cell(idleSeconds)) s of quiet…")
            Stopwatch.sleep(ms: idleSeconds * 1000)
        }
        var requestHeaders = headers
        if !requestHeaders.contains(where: { $0.name.lowercased() == "content-type" }) {
            requestHeaders.append(("Content-Type", payload.contentType))
        }
        let request = HTTPRequest(method: "POST", url: url, display: url, headers: requestHeaders, body: payload.body)
        do {
            // A new client: nothing cached, a new connection, as a new visitor would make.
            let client = try TimedHTTPClient(options: options)
            let first = try client.send(request, freshConnection: true)
            guard first.isSuccess else {
                result.error = Self.describe(first)
                return result
            }
            result.firstMs = first.timing.totalMs
            result.firstConnectMs = max(first.timing.tlsMs, first.timing.connectMs)
            result.firstServer = ServerTimingHeader(first.header("server-timing"))
            for _ in 0..<warmRequests {
                let warm = try client.send(request)
                guard warm.isSuccess else {
                    result.error = "warm request: " + Self.describe(warm)
                    return result
                }
                result.warmMs.append(warm.timing.totalMs)
                if let total = ServerTimingHeader(warm.header("server-timing"))["total"] {
                    result.warmServerMs.append(total)
                }
            }
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    static func describe(_ answer: TimedHTTPResult) -> String {
        if let failure = answer.failure { return "\(failure.kind.rawValue): \(failure.message)" }
        return "HTTP \(answer.status)" + (InvokeCommand.errorSummary(answer.body).map { " " + $0 } ?? "")
    }

    /// Rows of the summary: key, label, values.
    static func metrics(_ runs: [URLRun]) -> [(key: String, label: String, values: [Double])] {
        let ok = runs.filter { $0.error == nil }
        return [
            ("first_ms", "first request after quiet (ms)", ok.compactMap(\.firstMs)),
            ("first_connect_ms", "  its new connection (ms)", ok.compactMap(\.firstConnectMs)),
            ("first_server_cold_ms", "  server: cold wait (ms)", ok.compactMap { $0.firstServer["cold"] }),
            ("first_server_total_ms", "  server: total (ms)", ok.compactMap { $0.firstServer["total"] }),
            ("warm_ms", "warm requests (ms)", ok.flatMap(\.warmMs)),
            ("warm_server_total_ms", "  server: total (ms)", ok.flatMap(\.warmServerMs)),
        ]
    }
}
