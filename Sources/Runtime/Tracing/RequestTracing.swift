import Functions
import HTTPTypes
import Logging
import Tracing

/// One server span per request, continuing the caller's trace: W3C `traceparent` (and
/// `tracestate`), or Cloud Run's `X-Cloud-Trace-Context` when `traceparent` is absent.
///
/// Transports call ``withServerSpan(_:headers:attributes:tracer:logger:_:)`` around their handler
/// (the REST middleware ``ErrorAndTraceMiddleware`` does; gRPC passes its metadata). Child
/// spans started below it (queue wait, model load, inference, encode) become its children.
package enum RequestTracing {
    /// The trace headers of a request, as the transport found them.
    package struct Headers: Sendable {
        package var traceparent: String?
        package var tracestate: String?
        package var cloudTrace: String?

        package init(traceparent: String?, tracestate: String? = nil, cloudTrace: String? = nil) {
            self.traceparent = traceparent
            self.tracestate = tracestate
            self.cloudTrace = cloudTrace
        }

        /// The trace headers of a request's fields, in one pass over them (three subscripts
        /// walked them three times, each through a generic lazy sequence).
        package init(_ fields: HTTPFields) {
            for field in fields { take(name: field.name.canonicalName, value: field.value) }
        }

        /// Takes a field if it is a trace header (`name` lower-case, as HTTP/2 sends it and
        /// `HTTPField.Name.canonicalName` gives it); whether it was. Every transport reads its
        /// fields through this. A repeated field's values are joined with ", " as `HTTPFields`'
        /// subscript joins them, so a repeated `traceparent` is refused and repeated
        /// `tracestate` fields make one list (W3C Trace Context).
        @discardableResult
        package mutating func take(name: String, value: String) -> Bool {
            func add(to header: inout String?) { header = header.map { $0 + ", " + value } ?? value }
            switch name {
            case "traceparent": add(to: &traceparent)
            case "tracestate": add(to: &tracestate)
            case "x-cloud-trace-context": add(to: &cloudTrace)
            default: return false
            }
            return true
        }

        /// The `traceparent` to continue: the header, else the Cloud Trace header translated.
        package var effectiveTraceparent: String? {
            if let traceparent, TraceContext.isValidTraceparent(traceparent) { return traceparent }
            return cloudTrace.flatMap(TraceContext.traceparent(fromCloudTrace:))
        }
    }

    /// Runs `operation` inside a server span of `tracer` named `name` whose parent is the
    /// caller's span.
    /// `operation` gets the span and a logger whose lines name the span that produced them:
    /// `logger` itself when it is a ``CloudLogHandler``'s (which finds the span in the
    /// request's `ServiceContext` when a line is logged: no logger copy per request), else
    /// `logger` with `trace` and `span` metadata.
    package static func withServerSpan<T>(
        _ name: String, headers: Headers, attributes: SpanAttributes = SpanAttributes(), tracer: any Tracer,
        logger: Logger, _ operation: (any Span, Logger) async throws -> T
    ) async throws -> T {
        try await withServerSpan(
            name, headers: headers, attributes: attributes, tracer: ServerTracer(tracer), logger: logger, operation)
    }

    /// ``withServerSpan(_:headers:attributes:tracer:logger:_:)`` with the tracer looked at once,
    /// when the transport was set up.
    package static func withServerSpan<T>(
        _ name: String, headers: Headers, attributes: SpanAttributes = SpanAttributes(), tracer: ServerTracer,
        logger: Logger, _ operation: (any Span, Logger) async throws -> T
    ) async throws -> T {
        // The runtime's own tracer through specialized calls, not the existential.
        if let otlp = tracer.otlp {
            return try await serverSpan(
                name, headers: headers, attributes: attributes, tracer: otlp, logger: logger, operation)
        }
        return try await serverSpan(
            name, headers: headers, attributes: attributes, tracer: tracer.tracer, logger: logger, operation)
    }

    /// A transport's tracer, looked at once: the runtime's ``OTLPTracer`` is then called through
    /// its concrete type on every request, with no cast.
    package struct ServerTracer: Sendable {
        let tracer: any Tracer
        let otlp: OTLPTracer?

        package init(_ tracer: any Tracer) {
            self.tracer = tracer
            self.otlp = tracer as? OTLPTracer
        }
    }

    private static func serverSpan<T, Tr: Tracer>(
        _ name: String, headers: Headers, attributes: SpanAttributes, tracer: Tr, logger: Logger,
        _ operation: (any Span, Logger) async throws -> T
    ) async throws -> T {
        var context = ServiceContext.current ?? .topLevel
        tracer.extract(headers, into: &context, using: HeadersExtractor())
        // The protocol's requirements, not its extension's defaults (not specializable).
        let span = tracer.startSpan(
            name, context: context, ofKind: .server, at: DefaultTracerClock.now, function: #function, file: #fileID,
            line: #line)
        defer { span.end(at: DefaultTracerClock.now) }
        var logger = logger
        if span.isRecording {
            if !attributes.isEmpty { span.updateAttributes { $0.merge(attributes) } }
            if let own = span as? OTLPSpan {
                // The metatypes compared (a cast costs a conformance lookup per request).
                if type(of: logger.handler) != CloudLogHandler.self {
                    let ids = SpanIDs(own)
                    logger[metadataKey: "trace"] = ids["trace"]
                    logger[metadataKey: "span"] = ids["span"]
                }
            } else {
                var carrier: [String: String] = [:]
                tracer.inject(span.context, into: &carrier, using: DictionaryInjector())
                if let own = carrier["traceparent"].flatMap(TraceContext.traceparentParts) {
                    logger[metadataKey: "trace"] = .string(own.trace)
                    logger[metadataKey: "span"] = .string(own.span)
                }
            }
        }
        let log = logger
        do {
            return try await ServiceContext.withValue(span.context) { try await operation(span, log) }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// Sets `attributes` on `span` and, when given, appends `nameSuffix` to its name after a
    /// space: as fields on the OTLP tracer's spans, else as a dictionary.
    package static func record(_ attributes: consuming RequestAttributes, nameSuffix: String? = nil, on span: any Span)
    {
        if let span = span as? OTLPSpan { return span.record(consume attributes, nameSuffix: nameSuffix) }
        if let nameSuffix { span.operationName += " " + nameSuffix }
        var a = SpanAttributes()
        attributes.forEach { a[$0] = $1 }
        span.attributes = a
    }

    /// The function a request path names (`/functions/NAME…`, `/v2/models/NAME…`), for the
    /// server span's `mscr.function` attribute.
    package static func functionName(path: String) -> String? {
        // On the UTF-8 bytes, through one pointer: this runs for every traced request.
        var path = path
        return path.withUTF8 { bytes in
            func name(after prefix: StaticString) -> String? {
                let n = prefix.utf8CodeUnitCount
                guard bytes.count > n, (0..<n).allSatisfy({ bytes[$0] == prefix.utf8Start[$0] }) else { return nil }
                var start = n
                while start < bytes.count, bytes[start] == UInt8(ascii: "/") { start += 1 }
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
                return end > start
                    ? String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) : nil
            }
            return name(after: "/functions/") ?? name(after: "/v2/models/")
        }
    }

    /// The ids of the server span of the request the current task serves (its
    /// ``FunctionCallTrace`` in `ServiceContext.current`), if the request is traced and sampled.
    static func currentSpanIDs() -> SpanIDs? {
        (ServiceContext.current?[FunctionCallTraceKey.self] as? OTLPSpan).flatMap(SpanIDs.init(recording:))
    }

    /// `logger` with the function's name (`function` metadata) and, when the call is traced,
    /// its server span's ids, in one copy of the handler: the function runs on a pool thread,
    /// outside the request's `ServiceContext`, so its log lines carry the ids themselves.
    package static func functionLogger(_ logger: Logger, function: String, trace: (any FunctionCallTrace)?) -> Logger {
        var logger = logger
        let ids = (trace as? OTLPSpan).flatMap(SpanIDs.init(recording:))
        if let ids, type(of: logger.handler) == CloudLogHandler.self, var handler = logger.handler as? CloudLogHandler {
            handler.metadata["function"] = .string(function)
            handler.spanIDs = ids
            logger.handler = handler
        } else {
            logger[metadataKey: "function"] = .string(function)
            if let ids {
                logger[metadataKey: "trace"] = ids["trace"]
                logger[metadataKey: "span"] = ids["span"]
            }
        }
        return logger
    }

    /// The trace and span ids of a request's server span, for its log lines.
    struct SpanIDs: Sendable {
        let traceHigh: UInt64
        let traceLow: UInt64
        let span: UInt64

        init(_ span: OTLPSpan) {
            let own = span.spanContext
            (traceHigh, traceLow, self.span) = (own.traceIDHigh, own.traceIDLow, own.spanID)
        }

        /// The span's ids, if it is sampled (an unsampled span is not exported: its ids would
        /// name nothing).
        init?(recording span: OTLPSpan) {
            guard span.isRecording else { return nil }
            self.init(span)
        }

        /// The `trace` or `span` metadata value, printed as lower-case hex; nil for other keys.
        subscript(key: String) -> Logger.MetadataValue? {
            switch key {
            case "trace": .stringConvertible(HexID(high: traceHigh, low: traceLow))
            case "span": .stringConvertible(HexID(high: nil, low: span))
            default: nil
            }
        }
    }

    /// A trace id (both halves) or span id (`low` only) that a log line prints as lower-case hex.
    struct HexID: CustomStringConvertible, Sendable {
        let high: UInt64?
        let low: UInt64

        var description: String { (high.map(OTLPSpanContext.hex) ?? "") + OTLPSpanContext.hex(low) }
    }

    struct HeadersExtractor: Extractor {
        func extract(key: String, from carrier: Headers) -> String? {
            switch key == "traceparent" || key == "tracestate" ? key : key.lowercased() {
            case "traceparent": return carrier.effectiveTraceparent
            case "tracestate": return carrier.tracestate
            default: return nil
            }
        }
    }

    struct DictionaryInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
            carrier[key] = value
        }
    }
}
