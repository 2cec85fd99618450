import ArgumentParser
import Common
import FoundationEssentials

/// `mscr coldstart`: how long until a new server answers, the product's headline number.
struct ColdstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coldstart",
        abstract: "Measure cold starts: of a server command started afresh N times, or of a deployed service.",
        discussion: """
            --spawn "COMMAND": runs COMMAND with /bin/sh -c, N times, each with a random free PORT in its \
            environment ({port} in COMMAND is replaced too), and records spawn → port open, spawn → healthy \
            (first 2xx of --health-path, polled every ~2 ms), spawn → first 2xx answer of the function with \
            --input, the server's own Server-Timing of that answer, and the peak RSS of the process group \
            (VmHWM), then stops it with SIGTERM. Repeat --spawn (with --label, --path, --health-path, each \
            given once for all or once per --spawn) to compare servers side by side: runs are interleaved. \
            --url URL: for a deployed service (Cloud Run, Knative), each run waits --idle seconds, sends one \
            request on a new connection, then --warm requests; compare the first with the warm ones. \
            Prints min / median / p95 / max per metric, or JSON with every run (--json).
            """)

    @Option(name: .customLong("spawn"), help: "A command that starts a server on $PORT (repeatable).")
    var spawn: [String] = []
    @Option(name: .customLong("label"), help: "A name per --spawn for the report.")
    var labels: [String] = []
    @Option(name: .customLong("path"), help: "The function's route instead of /functions/<function> (per --spawn).")
    var paths: [String] = []
    @Option(name: .customLong("health-path"), help: "The liveness route (per --spawn; default /healthz).")
    var healthPaths: [String] = []
    @Option(help: "A deployed service's URL, instead of --spawn.")
    var url: String?
    @Option(help: "With --url: seconds of quiet before each run's first request.")
    var idle: Double = 0
    @Option(help: "With --url: warm requests after each first one.")
    var warm: Int = 5
    @Option(help: "Measured runs (per --spawn).")
    var runs: Int = 5
    @Option(help: "Unmeasured runs first, per --spawn (fills the page cache).")
    var warmup: Int = 0
    @Option(help: "The function to call, e.g. detect or stock.")
    var function: String
    @Option(help: "The request body: an image, a CSV or JSON file.")
    var input: String
    @Option(name: .customLong("query"), help: "A query item key=value (repeatable).")
    var query: [String] = []
    @Option(help: "Send this Content-Type instead of the one picked from the file.")
    var contentType: String?
    @Option(help: "Seconds one spawned run may take before it counts as failed.")
    var runTimeout: Double = 300
    @Flag(help: "Print JSON (every run and the summary) instead of a table.")
    var json = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard spawn.isEmpty != (url == nil) else { throw ValidationError("give either --spawn (one or more) or --url") }
        guard runs >= 1, warmup >= 0, warm >= 0, idle >= 0, runTimeout > 0 else {
            throw ValidationError("--runs must be ≥ 1; --warmup, --warm and --idle ≥ 0; --run-timeout > 0")
        }
        guard labels.isEmpty || labels.count == spawn.count, Set(labels).count == labels.count else {
            throw ValidationError("give one distinct --label per --spawn")
        }
        for (name, list) in [("--path", paths), ("--health-path", healthPaths)]
        where list.count > 1 && list.count != spawn.count {
            throw ValidationError(
                "\(name) is given \(list.count) times: give it once, or once per --spawn (\(spawn.count))")
        }
    }

    func run() throws {
        let payload = try FunctionPayload.read(input, function: function, override: contentType)
        let headers = try connection.parsedHeaders()
        if let url {
            try runURL(url, payload: payload, headers: headers)
        } else {
            try runSpawn(payload: payload, headers: headers)
        }
    }

    /// The value of a per-spawn option for target `i`.
    private func pick(_ list: [String], _ i: Int) -> String? {
        list.isEmpty ? nil : list.count == 1 ? list[0] : list[i]
    }

    private func runSpawn(payload: FunctionPayload, headers: [(name: String, value: String)]) throws {
        let targets = spawn.indices.map { i in
            ColdstartTarget(
                label: pick(labels, i) ?? (spawn.count == 1 ? "server" : "server \(i + 1)"),
                command: spawn[i], path: pick(paths, i), healthPath: pick(healthPaths, i) ?? "/healthz")
        }
        let runner = SpawnColdstart(
            function: function, payload: payload, headers: headers, options: connection.clientOptions, query: query,
            runTimeout: runTimeout)
        for round in 0..<warmup {
            for target in targets {
                let r = runner.run(target, index: -1 - round)
                printError("[\(target.label) warm-up \(round + 1)/\(warmup)] " + Self.progress(r))
            }
        }
        var results: [String: [SpawnRun]] = [:]
        for round in 0..<runs {
            for target in targets {
                let r = runner.run(target, index: round)
                printError("[\(target.label) \(round + 1)/\(runs)] " + Self.progress(r))
                results[target.label, default: []].append(r)
            }
        }
        let failures = results.values.joined().filter { $0.error != nil }.count
        if json {
            print(Format.prettyJSON(spawnJSON(targets: targets, results: results, payload: payload)))
        } else {
            print(spawnTable(targets: targets, results: results, payload: payload))
        }
        if failures > 0 {
            printError("error: \(failures) run\(failures == 1 ? "" : "s") failed")
            throw ExitCode(1)
        }
    }

    static func progress(_ r: SpawnRun) -> String {
        if let error = r.error { return "failed: \(error)" }
        var parts = ["healthy \(Format.ms(r.healthyMs ?? 0))", "first answer \(Format.ms(r.firstAnswerMs ?? 0))"]
        if let cold = r.server["cold"] { parts.append("server cold \(Format.ms(cold))") }
        if let rss = r.peakRSSMiB { parts.append("peak \(rss.fixed(1)) MiB") }
        return parts.joined(separator: ", ")
    }

    /// key → distribution of one target's successful runs.
    private static func summary(_ runs: [SpawnRun]) -> [(key: String, label: String, values: Distribution)] {
        let ok = runs.filter { $0.error == nil }
        guard let first = ok.first ?? runs.first else { return [] }
        return first.metrics.indices.map { i in
            (first.metrics[i].key, first.metrics[i].label, Distribution(ok.compactMap { $0.metrics[i].value }))
        }
    }

    private func spawnTable(targets: [ColdstartTarget], results: [String: [SpawnRun]], payload: FunctionPayload)
        -> String
    {
        var out =
            "coldstart: \(runs) run\(runs == 1 ? "" : "s") per server, function \(function), "
            + "input \(Path.lastComponent(input)) (\(payload.contentType), \(payload.body.count) bytes)\n"
        for target in targets {
            let runs = results[target.label] ?? []
            let failed = runs.filter { $0.error != nil }.count
            out += "\n\(target.label): \(target.command)" + (failed > 0 ? "  [\(failed) failed]" : "") + "\n"
            var rows = [["metric", "min", "median", "p95", "max"]]
            for m in Self.summary(runs) where m.values.count > 0 {
                rows.append([
                    m.label, Format.cell(m.values.min), Format.cell(m.values.median),
                    Format.cell(m.values.percentile(95)), Format.cell(m.values.max),
                ])
            }
            out += Format.table(rows) + "\n"
        }
        if targets.count > 1, let base = targets.first {
            out += "\nside by side (medians; ratio = other / \(base.label)):\n"
            let summaries = targets.map { Self.summary(results[$0.label] ?? []) }
            var header = ["metric"] + targets.map(\.label)
            header += targets.dropFirst().map { "\($0.label) / \(base.label)" }
            var rows = [header]
            for key in ["healthy_ms", "first_answer_ms", "server_cold_ms", "first_request_ms", "peak_rss_mib"] {
                let medians = summaries.map { s in s.first { $0.key == key }?.values.median }
                guard medians.contains(where: { $0 != nil }) else { continue }
                let label = summaries.compactMap { s in s.first { $0.key == key }?.label }.first ?? key
                var row = [label] + medians.map(Format.cell)
                row += medians.dropFirst().map { m in
                    guard let m, let b = medians[0], b > 0 else { return "–" }
                    return (m / b).fixed(1) + "×"
                }
                rows.append(row)
            }
            out += Format.table(rows)
        }
        return out
    }

    private func spawnJSON(targets: [ColdstartTarget], results: [String: [SpawnRun]], payload: FunctionPayload)
        -> JSONValue
    {
        let rows: [JSONValue] = targets.map { target in
            let runs = results[target.label] ?? []
            var summary: [String: JSONValue] = [:]
            for m in Self.summary(runs) { summary[m.key] = m.values.coldstartJSON }
            return [
                "label": target.label.json, "command": target.command.json, "health_path": target.healthPath.json,
                "path": (target.path ?? "/functions/\(function)").json, "runs": .array(runs.map(\.json)),
                "summary": summary.json, "failures": runs.filter { $0.error != nil }.count.json,
            ]
        }
        return [
            "mode": "spawn", "function": function.json, "input": input.json, "content_type": payload.contentType.json,
            "runs_per_target": runs.json, "warmup": warmup.json, "targets": .array(rows),
        ]
    }

    private func runURL(_ base: String, payload: FunctionPayload, headers: [(name: String, value: String)]) throws {
        let target = try FunctionURL.make(base: base, function: function, path: pick(paths, 0), query: query)
        let runner = URLColdstart(
            url: target, payload: payload, headers: headers, options: connection.clientOptions, idleSeconds: idle,
            warmRequests: warm)
        var results: [URLRun] = []
        for i in 0..<runs {
            let r = runner.run(index: i)
            if let error = r.error {
                printError("[run \(i + 1)/\(runs)] failed: \(error)")
            } else {
                printError(
                    "[run \(i + 1)/\(runs)] first \(Format.ms(r.firstMs ?? 0))"
                        + (r.firstServer.isCold ? " (cold: \(Format.ms(r.firstServer["cold"] ?? 0)))" : " (warm)")
                        + ", warm median \(Format.ms(Distribution(r.warmMs).median ?? 0))")
            }
            results.append(r)
        }
        let metrics = URLColdstart.metrics(results)
        let failures = results.filter { $0.error != nil }.count
        let cold = results.filter { $0.error == nil && $0.firstServer.isCold }.count
        if json {
            var summary: [String: JSONValue] = [:]
            for m in metrics { summary[m.key] = Distribution(m.values).coldstartJSON }
            print(
                Format.prettyJSON([
                    "mode": "url", "url": target.json, "function": function.json, "idle_s": idle.json,
                    "warm": warm.json, "runs": .array(results.map(\.json)), "summary": summary.json,
                    "cold_first_requests": cold.json, "failures": failures.json,
                ]))
        } else {
            var out =
                "coldstart: \(runs) run\(runs == 1 ? "" : "s") against \(target), \(Format.cell(idle)) s quiet before each\n"
            out += "the server reported a cold start on \(cold) of \(runs - failures) first requests\n\n"
            var rows = [["metric", "min", "median", "p95", "max"]]
            for m in metrics where !m.values.isEmpty {
                let d = Distribution(m.values)
                rows.append([
                    m.label, Format.cell(d.min), Format.cell(d.median), Format.cell(d.percentile(95)),
                    Format.cell(d.max),
                ])
            }
            print(out + Format.table(rows))
        }
        if failures > 0 {
            printError("error: \(failures) run\(failures == 1 ? "" : "s") failed")
            throw ExitCode(1)
        }
    }
}
