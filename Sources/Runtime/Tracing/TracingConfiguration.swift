import Common
import Functions

/// The `OTEL_*` settings `mscr serve` honours (the OpenTelemetry SDK environment), read once
/// with the rest of ``RuntimeConfiguration``. Tracing is off unless an OTLP endpoint or
/// `OTEL_TRACES_EXPORTER` asks for it; a set value that does not parse stops the start with
/// the variable's name.
package struct TracingConfiguration: Sendable, Equatable {
    /// `OTEL_TRACES_EXPORTER`.
    package enum Exporter: String, Sendable { case otlp, none }
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`: only `http/protobuf` is built in (no `http/json`, no
    /// `grpc`).
    package enum OTLPProtocol: String, Sendable {
        case httpProtobuf = "http/protobuf"
    }
    /// `OTEL_TRACES_SAMPLER` and its `OTEL_TRACES_SAMPLER_ARG`.
    package enum Sampler: Sendable, Equatable {
        case alwaysOn, alwaysOff
        case traceIDRatio(Double)
        case parentBasedAlwaysOn, parentBasedAlwaysOff
        case parentBasedTraceIDRatio(Double)
    }

    /// Whether spans are recorded and exported at all.
    package var enabled = false
    package var exporter = Exporter.otlp
    /// The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `<endpoint>/v1/traces`.
    package var endpoint = "http://localhost:4318"
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: used as is.
    package var tracesEndpoint: String?
    package var otlpProtocol = OTLPProtocol.httpProtobuf
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` / `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`.
    package var exportTimeout: Duration = .seconds(10)
    /// `OTEL_SERVICE_NAME`; default `K_SERVICE` (Cloud Run, Knative) or `mscr`.
    package var serviceName = "mscr"
    /// `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`).
    package var resourceAttributes: [String: String] = [:]
    /// Default `parentbased_always_on`, as the specification says.
    package var sampler = Sampler.parentBasedAlwaysOn
    /// `OTEL_BSP_SCHEDULE_DELAY` (ms).
    package var batchScheduleDelay: Duration = .seconds(5)
    /// `OTEL_BSP_EXPORT_TIMEOUT` (ms).
    package var batchExportTimeout: Duration = .seconds(30)
    /// `OTEL_BSP_MAX_QUEUE_SIZE`.
    package var batchMaxQueueSize = 2048
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    package var batchMaxExportSize = 512

    package init() {}

    /// Where spans are sent: the traces endpoint as given, else `<endpoint>/v1/traces`.
    package var tracesURL: String {
        if let tracesEndpoint { return tracesEndpoint }
        return endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
    }

    /// Reads the `OTEL_*` variables. Throws an error naming the first variable that is set
    /// but invalid.
    package static func fromEnvironment(_ env: [String: String]) throws -> TracingConfiguration {
        var c = TracingConfiguration()
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmed, !raw.isEmpty else { return nil }
            return raw
        }
        func bad(_ name: String, _ raw: String, _ expected: String) -> FunctionError {
            FunctionError(.invalidInput, "\(name)=\(raw) is not \(expected)")
        }
        func milliseconds(_ name: String) throws -> Duration? {
            guard let raw = value(name) else { return nil }
            guard let ms = Int(raw), ms >= 0 else { throw bad(name, raw, "a whole number of milliseconds >= 0") }
            return .milliseconds(ms)
        }
        func count(_ name: String) throws -> Int? {
            guard let raw = value(name) else { return nil }
            guard let n = Int(raw), n >= 1 else { throw bad(name, raw, "an integer >= 1") }
            return n
        }
        func url(_ name: String) throws -> String? {
            guard let raw = value(name) else { return nil }
            let lower = raw.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), raw.count > 8 else {
                throw bad(name, raw, "an http:// or https:// URL")
            }
            return raw
        }

        var disabled = false
        if let raw = value("OTEL_SDK_DISABLED") {
            switch raw.lowercased() {
            case "true": disabled = true
            case "false": disabled = false
            default: throw bad("OTEL_SDK_DISABLED", raw, "true or false")
            }
        }
        var exporterSet = false
        if let raw = value("OTEL_TRACES_EXPORTER") {
            guard let e = Exporter(rawValue: raw.lowercased()) else {
                throw bad("OTEL_TRACES_EXPORTER", raw, "otlp or none")
            }
            c.exporter = e
            exporterSet = true
        }
        if let e = try url("OTEL_EXPORTER_OTLP_ENDPOINT") { c.endpoint = e }
        c.tracesEndpoint = try url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        for name in ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] {
            guard let raw = value(name) else { continue }
            guard let p = OTLPProtocol(rawValue: raw.lowercased()) else {
                throw bad(name, raw, "http/protobuf (the only OTLP protocol this build exports: no http/json, no grpc)")
            }
            c.otlpProtocol = p
        }
        for name in ["OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] {
            if let t = try milliseconds(name) { c.exportTimeout = t }
        }
        if let k = value("K_SERVICE") { c.serviceName = k }
        if let raw = value("OTEL_RESOURCE_ATTRIBUTES") {
            for pair in raw.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, !kv[0].trimmed.isEmpty else {
                    throw bad("OTEL_RESOURCE_ATTRIBUTES", raw, "a list of key=value pairs separated by commas")
                }
                c.resourceAttributes[kv[0].trimmed] = kv[1].trimmed
            }
        }
        if let name = c.resourceAttributes["service.name"] { c.serviceName = name }
        if let name = value("OTEL_SERVICE_NAME") { c.serviceName = name }
        c.sampler = try sampler(env: env, value: value, bad: bad)
        if let d = try milliseconds("OTEL_BSP_SCHEDULE_DELAY") { c.batchScheduleDelay = d }
        if let d = try milliseconds("OTEL_BSP_EXPORT_TIMEOUT") { c.batchExportTimeout = d }
        if let n = try count("OTEL_BSP_MAX_QUEUE_SIZE") { c.batchMaxQueueSize = n }
        if let n = try count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
            guard n <= c.batchMaxQueueSize else {
                throw bad(
                    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "\(n)",
                    "at most OTEL_BSP_MAX_QUEUE_SIZE (\(c.batchMaxQueueSize))")
            }
            c.batchMaxExportSize = n
        }
        let endpointSet = value("OTEL_EXPORTER_OTLP_ENDPOINT") != nil || c.tracesEndpoint != nil
        c.enabled = !disabled && c.exporter != .none && (exporterSet || endpointSet)
        return c
    }

    private static func sampler(
        env: [String: String], value: (String) -> String?, bad: (String, String, String) -> FunctionError
    ) throws -> Sampler {
        let argName = "OTEL_TRACES_SAMPLER_ARG"
        func ratio() throws -> Double {
            guard let raw = value(argName) else { return 1 }
            guard let r = Double(raw), r >= 0, r <= 1 else { throw bad(argName, raw, "a probability from 0 to 1") }
            return r
        }
        guard let raw = value("OTEL_TRACES_SAMPLER") else { return .parentBasedAlwaysOn }
        switch raw.lowercased() {
        case "always_on": return .alwaysOn
        case "always_off": return .alwaysOff
        case "traceidratio": return .traceIDRatio(try ratio())
        case "parentbased_always_on": return .parentBasedAlwaysOn
        case "parentbased_always_off": return .parentBasedAlwaysOff
        case "parentbased_traceidratio": return .parentBasedTraceIDRatio(try ratio())
        default:
            throw bad(
                "OTEL_TRACES_SAMPLER", raw,
                "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
            )
        }
    }

    /// What the start-up line logs.
    package var summary: String {
        enabled ? "\(exporter.rawValue) \(otlpProtocol.rawValue) \(tracesURL) service=\(serviceName)" : "off"
    }
}
