import HTTPTypes
import Hummingbird
import Tracing

/// The REST transport's server span: one per request, named `METHOD route`, with the HTTP
/// attributes of the OpenTelemetry conventions and `mscr.function` for function calls
/// (`mscr.cold` comes from the call's phases when the span ends). The attributes are set once,
/// when the response is known, as ``RequestAttributes`` fields (no attribute dictionary); the
/// span wraps the error mapping, so it sees the status the client gets.
extension ErrorAndTraceMiddleware {
    func traced(
        _ request: Request, path: String, context: Context, tracer: RequestTracing.ServerTracer,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let headers = RequestTracing.Headers(request.headers)
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
            // `respond` maps every error to a response.
            let response = try await respond(request, path: path, context: context, spanLogged: true, next: next)
            let route = context.endpointPath
            // Built whole here and moved into the span (a value held across the await was copied).
            RequestTracing.record(
                RequestAttributes(
                    function: RequestTracing.functionName(path: path), method: method, path: path, route: route,
                    status: Int(response.status.code)),
                nameSuffix: route ?? path, on: span)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }
}
