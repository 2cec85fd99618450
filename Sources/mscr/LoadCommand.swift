import ArgumentParser
import Common
import FoundationEssentials
import ObjectStore

/// `mscr load URL --function F --input FILE --users U --requests N`: the original load
/// experiment (10 users, 1000 requests) with failures counted by kind.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Send N requests from U concurrent users to a function; count failures, latency and throughput.",
        discussion: """
            Each user is a thread with its own libcurl handle and kept-alive connection; users take requests \
            from a shared count until N were sent (or --duration passes). --rate paces all users together to R \
            requests per second; --think-ms pauses each user after each answer. Reports answers by status, \
            failures by kind (connect, timeout, tls, broken connection, 4xx, 5xx), latency percentiles \
            (p50 / p90 / p99 / max, of the answered requests), requests per second, and the server's own \
            Server-Timing (queue, infer, total). Exits with 1 when a request failed or was never sent, \
            unless --allow-failures. Pin it apart from the server on small machines (taskset -c).
            """)

    @Argument(help: "The service, e.g. http://127.0.0.1:8080.")
    var url: String
    @Option(help: "The function, e.g. detect or stock.")
    var function: String
    @Option(help: "The request body: an image, a CSV or JSON file.")
    var input: String
    @Option(help: "Concurrent users.")
    var users: Int = 10
    @Option(help: "Requests in total.")
    var requests: Int = 1000
    @Option(help: "Requests per second over all users (default: as fast as the server answers).")
    var rate: Double?
    @Option(help: "Milliseconds each user waits after an answer.")
    var thinkMs: Double = 0
    @Option(help: "Seconds after which no new request starts.")
    var duration: Double = 600
    @Option(help: "The function's route instead of /functions/<function> (another server's, e.g. /predict).")
    var path: String?
    @Option(name: .customLong("query"), help: "A query item key=value (repeatable).")
    var query: [String] = []
    @Option(help: "Send this Content-Type instead of the one picked from the file.")
    var contentType: String?
    @Flag(help: "Exit 0 even when requests failed.")
    var allowFailures = false
    @Flag(help: "Print JSON instead of text.")
    var json = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard users >= 1, requests >= 1 else { throw ValidationError("--users and --requests must be ≥ 1") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be > 0") }
        guard thinkMs >= 0, duration > 0 else { throw ValidationError("--think-ms must be ≥ 0 and --duration > 0") }
    }

    func run() throws {
        let payload = try FunctionPayload.read(input, function: function, override: contentType)
        let target = try FunctionURL.make(base: url, function: function, path: path, query: query)
        var headers = try connection.parsedHeaders()
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", payload.contentType))
        }
        let runner = LoadRunner(
            request: HTTPRequest(method: "POST", url: target, display: target, headers: headers, body: payload.body),
            options: connection.clientOptions, users: users, requests: requests, rate: rate, thinkMs: thinkMs,
            durationCap: duration)
        let report = runner.run()
        print(json ? Format.prettyJSON(jsonObject(report, target: target)) : text(report, target: target))
        if report.failed > 0 || report.notSent > 0, !allowFailures {
            printError(
                "error: \(report.failed) request\(report.failed == 1 ? "" : "s") failed"
                    + (report.notSent > 0
                        ? ", \(report.notSent) never sent (--duration \(Format.cell(duration)) s)" : ""))
            throw ExitCode(1)
        }
    }

    private func text(_ r: LoadReport, target: String) -> String {
        var lines = [
            "load: \(r.sent) of \(requests) requests to \(target), \(users) user\(users == 1 ? "" : "s"), "
                + (rate.map { "rate \(Format.cell($0))/s" } ?? "no rate limit")
                + (thinkMs > 0 ? ", think \(Format.cell(thinkMs)) ms" : "")
        ]
        let statuses = r.statuses.keys.sorted().map { "\($0) ×\(r.statuses[$0] ?? 0)" }
        lines.append("answers: " + (statuses.isEmpty ? "none" : statuses.joined(separator: ", ")))
        let errors = LoadReport.errorKinds.compactMap { k in r.errors[k].map { "\(k) \($0)" } }
        lines.append("failures: " + (errors.isEmpty ? "0" : "\(r.failed) (" + errors.joined(separator: ", ") + ")"))
        for m in r.messages { lines.append("  e.g. \(m)") }
        if r.notSent > 0 { lines.append("never sent: \(r.notSent) (the --duration cap passed)") }
        let l = r.latencies
        lines.append(
            "latency (ms): p50 \(Format.cell(l.percentile(50))) · p90 \(Format.cell(l.percentile(90))) · "
                + "p99 \(Format.cell(l.percentile(99))) · max \(Format.cell(l.max)) · mean \(Format.cell(l.mean))")
        lines.append("throughput: \(r.requestsPerSecond.fixed(1)) requests/s over \(r.seconds.fixed(2)) s")
        if r.serverTotal.count > 0 {
            lines.append(
                "server (Server-Timing, p50 / p99 ms): queue \(Format.cell(r.serverQueue.median)) / "
                    + "\(Format.cell(r.serverQueue.percentile(99))) · infer \(Format.cell(r.serverInfer.median)) / "
                    + "\(Format.cell(r.serverInfer.percentile(99))) · total \(Format.cell(r.serverTotal.median)) / "
                    + "\(Format.cell(r.serverTotal.percentile(99)))" + (r.cold > 0 ? " · \(r.cold) cold" : ""))
        }
        lines.append("connections opened: \(r.connections)")
        return lines.joined(separator: "\n")
    }

    private func jsonObject(_ r: LoadReport, target: String) -> JSONValue {
        var errors: [String: Int] = [:]
        for k in LoadReport.errorKinds { errors[k] = r.errors[k] ?? 0 }
        return [
            "url": target.json, "function": function.json, "users": users.json, "requests": requests.json,
            "rate": rate.json, "think_ms": thinkMs.json, "sent": r.sent.json, "not_sent": r.notSent.json,
            "succeeded": r.succeeded.json, "failed": r.failed.json,
            "status": r.statuses.reduce(into: [String: Int]()) { $0[String($1.key)] = $1.value }.json,
            "errors": errors.json, "error_samples": r.messages.json,
            "latency_ms": r.latencies.loadJSON, "duration_s": r.seconds.rounded(toPlaces: 3).json,
            "rps": r.requestsPerSecond.rounded(toPlaces: 3).json,
            "server_ms": [
                "total": r.serverTotal.loadJSON, "queue": r.serverQueue.loadJSON, "infer": r.serverInfer.loadJSON,
            ],
            "cold_responses": r.cold.json, "connections": r.connections.json,
        ]
    }
}
