import Common
import FoundationEssentials
import ObjectStore

#if canImport(Glibc)
import Glibc
#endif

/// One server to cold-start again and again: a shell command, and the routes to use on it.
struct ColdstartTarget: Sendable {
    var label: String
    /// Run by `/bin/sh -c`, `{port}` replaced by the port (also given as `$PORT`).
    var command: String
    /// The function's route (default `/functions/<function>`); may carry a query.
    var path: String?
    /// The liveness route polled until it answers 2xx.
    var healthPath: String
}

/// What one cold start of a spawned server measured. Times are milliseconds from `posix_spawn`.
struct SpawnRun: Sendable {
    var target: String
    var run: Int
    /// A TCP connection to the port succeeded.
    var portOpenMs: Double?
    /// The health route answered 2xx.
    var healthyMs: Double?
    /// The function answered 2xx (the headline number).
    var firstAnswerMs: Double?
    /// That successful request alone, as libcurl timed it.
    var requestMs: Double?
    var server = ServerTimingHeader(nil)
    /// Sum of the process group's VmHWM, and the largest single process's (MiB).
    var peakRSSMiB: Double?
    var largestRSSMiB: Double?
    /// Function requests sent until one succeeded.
    var attempts = 0
    var error: String?

    /// The metrics of the report, in order: key, label, value.
    var metrics: [(key: String, label: String, value: Double?)] {
        [
            ("port_open_ms", "spawn → port open (ms)", portOpenMs),
            ("healthy_ms", "spawn → healthy (ms)", healthyMs),
            ("first_answer_ms", "spawn → first answer (ms)", firstAnswerMs),
            ("first_request_ms", "first request alone (ms)", requestMs),
            ("server_cold_ms", "server: cold wait (ms)", server["cold"]),
            ("server_fetch_ms", "server: fetch (ms)", server["fetch"]),
            ("server_parse_ms", "server: parse (ms)", server["parse"]),
            ("server_queue_ms", "server: queue (ms)", server["queue"]),
            ("server_infer_ms", "server: infer (ms)", server["infer"]),
            ("server_total_ms", "server: total (ms)", server["total"]),
            ("peak_rss_mib", "peak RSS, process group (MiB)", peakRSSMiB),
            ("largest_rss_mib", "peak RSS, largest process (MiB)", largestRSSMiB),
        ]
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["target": target.json, "run": run.json, "attempts": attempts.json]
        for m in metrics { object[m.key] = m.value.map { $0.rounded(toPlaces: 3) }.json }
        object["server_timing"] = server.metrics.reduce(into: [String: JSONValue]()) { $0[$1.name] = $1.ms.json }.json
        if let error { object["error"] = error.json }
        return object.json
    }
}

/// Starts a server, waits for it to be healthy (polling every ~2 ms), calls the function once
/// it is, reads the process group's peak memory, and stops it with SIGTERM.
struct SpawnColdstart {
    var function: String
    var payload: FunctionPayload
    var headers: [(name: String, value: String)]
    var options: TimedHTTPClient.Options
    var query: [String]
    /// Seconds one run may take before it counts as failed.
    var runTimeout: Double
    var pollMs = 2.0

    func run(_ target: ColdstartTarget, index: Int) -> SpawnRun {
        var result = SpawnRun(target: target.label, run: index)
        let port: Int
        do {
            port = try freeLocalPort()
        } catch {
            result.error = "\(error)"
            return result
        }
        let command = target.command.replacing("{port}", with: String(port))
        var environment = ProcessInfo.processInfo.environment
        environment["PORT"] = String(port)
        let log =
            (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
            + "/mscr-coldstart-\(getpid())-\(target.label.filter { $0.isLetter || $0.isNumber })-\(index).log"
        let base = "http://127.0.0.1:\(port)"
        let healthURL = base + (target.healthPath.hasPrefix("/") ? "" : "/") + target.healthPath
        let functionURL: String
        let client: TimedHTTPClient
        do {
            functionURL = try FunctionURL.make(base: base, function: function, path: target.path, query: query)
            var probeOptions = options
            probeOptions.connectTimeout = min(options.connectTimeout, 1)
            client = try TimedHTTPClient(options: probeOptions)
        } catch {
            result.error = "\(error)"
            return result
        }

        let t0 = Stopwatch.ms()
        let server: SpawnedServer
        do {
            server = try SpawnedServer(command: command, environment: environment, logPath: log)
        } catch {
            result.error = "\(error)"
            return result
        }
        var memory = ProcessGroupMemory(group: server.pid)
        var lastSample = t0
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: log)
        }
        func elapsed() -> Double { Stopwatch.ms() - t0 }
        func remaining() -> Double { runTimeout - elapsed() / 1000 }
        /// nil while the server runs and there is time left; else why the run failed.
        func problem(_ phase: String) -> String? {
            if let status = server.exited() {
                return "the server \(SpawnedServer.describe(status)) before \(phase); its output:\n\(server.logTail())"
            }
            if remaining() <= 0 {
                return "no \(phase) within \(Int(runTimeout)) s; the server's output:\n\(server.logTail())"
            }
            if Stopwatch.ms() - lastSample >= 100 {
                memory.sample()
                lastSample = Stopwatch.ms()
            }
            return nil
        }

        // Listening: the first 2xx from the health route.
        while result.healthyMs == nil {
            if let p = problem("it was healthy") {
                result.error = p
                return result
            }
            let start = Stopwatch.ms()
            guard
                let answer = try? client.send(
                    HTTPRequest(method: "GET", url: healthURL, display: healthURL), timeout: max(0.001, remaining()))
            else { continue }
            if result.portOpenMs == nil, answer.failure == nil || answer.timing.connectMs > 0 {
                result.portOpenMs = start + max(answer.timing.connectMs, 0) - t0
            }
            if answer.isSuccess {
                result.healthyMs = elapsed()
            } else {
                Stopwatch.sleep(ms: pollMs)
            }
        }

        // The first successful answer of the function.
        var lastError = ""
        var requestHeaders = headers
        if !requestHeaders.contains(where: { $0.name.lowercased() == "content-type" }) {
            requestHeaders.append(("Content-Type", payload.contentType))
        }
        let request = HTTPRequest(
            method: "POST", url: functionURL, display: functionURL, headers: requestHeaders, body: payload.body)
        while result.firstAnswerMs == nil {
            if let p = problem("the first answer" + (lastError.isEmpty ? "" : " (last: \(lastError))")) {
                result.error = p
                return result
            }
            result.attempts += 1
            guard let answer = try? client.send(request, timeout: max(0.001, remaining())) else { continue }
            if answer.isSuccess {
                result.firstAnswerMs = elapsed()
                result.requestMs = answer.timing.totalMs
                result.server = ServerTimingHeader(answer.header("server-timing"))
            } else {
                lastError =
                    answer.failure.map { "\($0.kind.rawValue): \($0.message)" }
                    ?? "HTTP \(answer.status) \(InvokeCommand.errorSummary(answer.body) ?? "")"
                Stopwatch.sleep(ms: pollMs)
            }
        }
        memory.sample()
        result.peakRSSMiB = memory.totalMiB
        result.largestRSSMiB = memory.largestMiB
        return result
    }
}
