import Common
import FoundationEssentials
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes one JSON object per line on stdout in the shape Cloud
/// Logging reads (`severity`, `message`, `time`, `logging.googleapis.com/trace`, fields), or
/// a human-readable line for terminals.
package struct CloudLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    /// The ids of the request's span, logged as the `trace` and `span` fields (a `metadata` entry
    /// of the same key wins). Unset, a line logged while a traced request is served takes them
    /// from the request's `ServiceContext` (``RequestTracing/currentSpanIDs()``); a function's
    /// logger, used on a pool thread outside that context, has them set
    /// (``RequestTracing/functionLogger(_:function:trace:)``). Rendered only when a line is logged.
    var spanIDs: RequestTracing.SpanIDs?
    package var logLevel: Logger.Level
    let label: String
    let format: RuntimeConfiguration.LogFormat
    let project: String?
    let sink: LogSink

    package init(
        label: String, level: Logger.Level, format: RuntimeConfiguration.LogFormat, project: String?,
        sink: LogSink = .stdout
    ) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.project = project
        self.sink = sink
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] ?? (spanIDs ?? RequestTracing.currentSpanIDs())?[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var fields = self.metadata
        if let spanIDs = spanIDs ?? RequestTracing.currentSpanIDs() {
            fields["trace"] = fields["trace"] ?? spanIDs["trace"]
            fields["span"] = fields["span"] ?? spanIDs["span"]
        }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let line: String
        switch format {
        case .json: line = jsonLine(level: event.level, message: "\(event.message)", fields: fields)
        case .text: line = textLine(level: event.level, message: "\(event.message)", fields: fields)
        }
        sink.write(line + "\n")
    }

    /// Cloud Logging's severity names.
    static func severity(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "DEBUG"
        case .info: return "INFO"
        case .notice: return "NOTICE"
        case .warning: return "WARNING"
        case .error: return "ERROR"
        case .critical: return "CRITICAL"
        }
    }

    func jsonLine(level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var object: [String: JSONValue] = [
            "severity": .string(Self.severity(level)),
            "message": .string(message),
            "time": .string(Self.timestamp()),
            "logger": .string(label),
        ]
        for (key, value) in fields {
            if key == "trace" {
                let id = "\(value)"
                object["logging.googleapis.com/trace"] = .string(project.map { "projects/\($0)/traces/\(id)" } ?? id)
                continue
            }
            if key == "span" {
                object["logging.googleapis.com/spanId"] = .string("\(value)")
                continue
            }
            object[key] = Self.json(value)
        }
        return object.json.text()
    }

    func textLine(level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        let rest = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let severity = Self.severity(level)
        let padded = severity + String(repeating: " ", count: max(0, 8 - severity.count))
        return "\(Self.timestamp()) \(padded) \(message)"
            + (rest.isEmpty ? "" : "  " + rest)
    }

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c):
            if let n = c as? Int { return .int(n) }
            if let d = c as? Double, d.isFinite { return .double(d) }
            if let b = c as? Bool { return .bool(b) }
            return .string("\(c)")
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(d.map { ($0.key, json($0.value)) })
        }
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tm = tm()
        gmtime_r(&t, &tm)
        let ms = Int(ts.tv_nsec / 1_000_000)
        func p(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let msString = String(repeating: "0", count: 3 - String(ms).count) + String(ms)
        return
            "\(p(tm.tm_year + 1900, 4))-\(p(tm.tm_mon + 1, 2))-\(p(tm.tm_mday, 2))T\(p(tm.tm_hour, 2)):\(p(tm.tm_min, 2)):\(p(tm.tm_sec, 2)).\(msString)Z"
    }
}

/// Where log lines go: stdout (one `write` per line, so lines never interleave) or memory.
package final class LogSink: Sendable {
    private let capture: Bool
    private let lines = Mutex<[String]>([])

    private init(capture: Bool) {
        self.capture = capture
    }

    package static let stdout = LogSink(capture: false)

    /// A sink that keeps lines in memory (tests).
    package static func memory() -> LogSink { LogSink(capture: true) }

    package var captured: [String] { lines.withLock { $0 } }

    func write(_ line: String) {
        if capture {
            lines.withLock { $0.append(line) }
            return
        }
        StandardStream.writeOutput(line)
    }
}
