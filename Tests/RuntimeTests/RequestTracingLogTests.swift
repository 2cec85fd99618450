import Common
import Functions
import Logging
import Runtime
import Testing
import Tracing

/// The log lines of a traced request name its server span (`logging.googleapis.com/trace` and
/// `spanId`), with the ids kept on ``CloudLogHandler`` rather than as two metadata entries.
@Suite struct RequestTracingLogTests {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    func tracer() -> OTLPTracer {
        var c = TracingConfiguration()
        c.enabled = true
        c.endpoint = "http://127.0.0.1:9"
        let logger = Logger(label: "test")
        let processor = OTLPBatchProcessor(
            configuration: c, exporter: OTLPExporter(configuration: c, logger: logger), logger: logger)
        return OTLPTracer(sampler: TraceSampler(.parentBasedAlwaysOn), processor: processor)
    }

    func lines(_ sink: LogSink) throws -> [JSONValue] {
        try sink.captured.map { try JSONValue.parse(Array($0.utf8)) }
    }

    @Test("lines logged in the server span carry its trace and span ids; the logger reads them back; a set entry wins")
    func linesNameTheSpan() async throws {
        let sink = LogSink.memory()
        let logger = Logger(label: "t") { _ in
            CloudLogHandler(label: "t", level: .debug, format: .json, project: "proj", sink: sink)
        }
        let headers = RequestTracing.Headers(traceparent: "00-\(trace)-00f067aa0ba902b7-01")
        let spanID = try await RequestTracing.withServerSpan(
            "GET /x", headers: headers, tracer: tracer(), logger: logger
        ) { span, logger in
            logger.info("inside")
            // What APIError checks before adding the caller's ids.
            #expect(logger[metadataKey: "trace"].map { "\($0)" } == trace)
            var explicit = logger
            explicit[metadataKey: "span"] = "set"
            explicit.info("explicit")
            return (span as? OTLPSpan)?.spanContext.spanID ?? 0
        }
        logger.info("outside")
        let hex = String(spanID, radix: 16)
        let spanHex = String(repeating: "0", count: 16 - hex.count) + hex
        let logged = try lines(sink)
        #expect(logged.count == 3)
        let (inside, explicit, outside) = (logged[0], logged[1], logged[2])
        #expect(inside["logging.googleapis.com/trace"]?.stringValue == "projects/proj/traces/\(trace)")
        #expect(inside["logging.googleapis.com/spanId"]?.stringValue == spanHex)
        #expect(spanHex != "00f067aa0ba902b7" && spanID != 0)
        #expect(explicit["logging.googleapis.com/trace"]?.stringValue == "projects/proj/traces/\(trace)")
        #expect(explicit["logging.googleapis.com/spanId"]?.stringValue == "set")
        #expect(outside["logging.googleapis.com/trace"] == nil && outside["logging.googleapis.com/spanId"] == nil)
    }

    @Test(
        "a function's logger, used outside the request's context (a pool thread), names the span; the request's own logger there does not"
    )
    func functionLoggerOutsideTheContext() async throws {
        let sink = LogSink.memory()
        let logger = Logger(label: "t") { _ in
            CloudLogHandler(label: "t", level: .debug, format: .json, project: nil, sink: sink)
        }
        let headers = RequestTracing.Headers(traceparent: "00-\(trace)-00f067aa0ba902b7-01")
        let spanID = try await RequestTracing.withServerSpan(
            "POST /functions/f", headers: headers, tracer: tracer(), logger: logger
        ) { span, logger in
            let trace = ServiceContext.current?[FunctionCallTraceKey.self]
            let function = RequestTracing.functionLogger(logger, function: "f", trace: trace)
            // Detached: no task-local values, as on a work-pool thread.
            await Task.detached {
                function.info("in the function")
                logger.info("request logger, outside")
            }.value
            return (span as? OTLPSpan)?.spanContext.spanID ?? 0
        }
        let hex = String(spanID, radix: 16)
        let spanHex = String(repeating: "0", count: 16 - hex.count) + hex
        let logged = try lines(sink)
        #expect(logged.count == 2)
        #expect(logged[0]["logging.googleapis.com/trace"]?.stringValue == trace)
        #expect(logged[0]["logging.googleapis.com/spanId"]?.stringValue == spanHex)
        #expect(logged[0]["function"]?.stringValue == "f")
        #expect(logged[1]["logging.googleapis.com/trace"] == nil)
    }

    @Test("an unsampled request's function logger carries no span ids (its span is not exported)")
    func unsampledFunctionLogger() async throws {
        let sink = LogSink.memory()
        let logger = Logger(label: "t") { _ in
            CloudLogHandler(label: "t", level: .debug, format: .json, project: nil, sink: sink)
        }
        let headers = RequestTracing.Headers(traceparent: "00-\(trace)-00f067aa0ba902b7-00")
        try await RequestTracing.withServerSpan("GET /x", headers: headers, tracer: tracer(), logger: logger) {
            _, logger in
            let function = RequestTracing.functionLogger(
                logger, function: "f", trace: ServiceContext.current?[FunctionCallTraceKey.self])
            function.info("in the function")
        }
        let logged = try lines(sink)
        #expect(logged.count == 1)
        #expect(logged[0]["logging.googleapis.com/spanId"] == nil && logged[0]["function"]?.stringValue == "f")
    }

    @Test("another log handler gets the ids as trace and span metadata")
    func otherHandlers() async throws {
        let logger = Logger(label: "t") { StreamLogHandler.standardError(label: $0) }
        let headers = RequestTracing.Headers(traceparent: "00-\(trace)-00f067aa0ba902b7-01")
        let (logged, spanID) = try await RequestTracing.withServerSpan(
            "GET /x", headers: headers, tracer: tracer(), logger: logger
        ) { span, logger in
            (logger[metadataKey: "trace"].map { "\($0)" }, (span as? OTLPSpan)?.spanContext.spanID ?? 0)
        }
        #expect(logged == trace)
        #expect(spanID != 0)
    }
}
