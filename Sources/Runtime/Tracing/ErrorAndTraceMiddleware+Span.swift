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
        let headers = RequestTracing.Headers(
            traceparent: request.headers[HeaderNames.traceparent], tracestate: request.headers[HeaderNames.tracestate],
            cloudTrace: request.headers[HeaderNames.cloudTrace])
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

    /// The first value of a field, for the one the server itself set once (`Server-Timing`):
    /// `HTTPFields`' subscript joins every value of the name through a generic lazy sequence,
    /// which showed in profiles of traced requests. (A caller's fields keep the subscript: W3C
    /// Trace Context joins repeated `tracestate` fields and refuses repeated `traceparent`.)
    static func first(_ name: HTTPField.Name, in fields: HTTPFields) -> String? {
        for field in fields where field.name == name { return field.value }
        return nil
    }
}
