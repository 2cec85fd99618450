import HTTPTypes
import Hummingbird
import Tracing

/// The REST transport's server span: one per request, named `METHOD route`, with the HTTP
/// attributes of the OpenTelemetry conventions and `mscr.function` / `mscr.cold` for function
/// calls. The attributes are set once, when the response is known, as ``RequestAttributes``
/// fields (no attribute dictionary); the span wraps the error mapping, so it sees the status
/// the client gets.
extension ErrorAndTraceMiddleware {
    func traced(
        _ request: Request, path: String, context: Context, tracer: any Tracer,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let headers = Self.traceHeaders(request.headers)
        let method = request.method.rawValue
        // Routing happens below: the span is named for its route when the response is known.
        return try await RequestTracing.withServerSpan(
            method, headers: headers, tracer: tracer, logger: context.logger
        ) { span, logger in
            var context = context
            context.logger = logger
            guard span.isRecording else {
                return try await respond(request, path: path, context: context, next: next)
            }
            var a = RequestAttributes(method: method, path: path)
            let function = RequestTracing.functionName(path: path)
            a.function = function
            // `respond` maps every error to a response.
            let response = try await respond(request, path: path, context: context, spanLogged: true, next: next)
            let route = context.endpointPath
            a.route = route
            a.status = Int(response.status.code)
            if function != nil, let timing = Self.first(HeaderNames.serverTiming, in: response.headers),
                RequestTracing.hasInferMetric(timing)
            {
                a.cold = timing.utf8.starts(with: "cold;".utf8)
            }
            RequestTracing.record(a, name: "\(method) \(route ?? path)", on: span)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    /// The trace headers of a request in one pass over its fields (three subscripts walked them
    /// three times, each through a generic lazy sequence). A repeated field's values are joined
    /// with ", " as the subscript joins them, so a repeated `traceparent` is still refused and
    /// repeated `tracestate` fields still make one list (W3C Trace Context).
    static func traceHeaders(_ fields: HTTPFields) -> RequestTracing.Headers {
        var headers = RequestTracing.Headers(traceparent: nil)
        func add(_ value: String, to header: inout String?) {
            header = header.map { $0 + ", " + value } ?? value
        }
        for field in fields {
            switch field.name {
            case HeaderNames.traceparent: add(field.value, to: &headers.traceparent)
            case HeaderNames.tracestate: add(field.value, to: &headers.tracestate)
            case HeaderNames.cloudTrace: add(field.value, to: &headers.cloudTrace)
            default: continue
            }
        }
        return headers
    }

    /// The first value of a field, for the one the server itself set once (`Server-Timing`):
    /// `HTTPFields`' subscript joins every value of the name through a generic lazy sequence,
    /// which showed in profiles of traced requests. (A caller's fields keep the subscript: W3C
    /// Trace Context joins repeated `tracestate` fields and refuses repeated `traceparent`.)
    static func first(_ name: HTTPField.Name, in fields: HTTPFields) -> String? {
        for field in fields where field.name == name { return field.value }
        return nil
    }
}
