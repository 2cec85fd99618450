import Functions
import HTTPTypes
import Hummingbird
import Tracing

/// The REST transport's server span: one per request, named `METHOD route`, with the HTTP
/// attributes of the OpenTelemetry conventions and `mscr.function` / `mscr.cold` for function
/// calls. Added to the router only when tracing is on.
struct RequestTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let headers = RequestTracing.Headers(
            traceparent: request.headers[HTTPField.Name("traceparent")!],
            tracestate: request.headers[HTTPField.Name("tracestate")!],
            cloudTrace: request.headers[HTTPField.Name("X-Cloud-Trace-Context")!])
        let path = request.uri.path
        var attributes: SpanAttributes = [:]
        attributes["http.request.method"] = request.method.rawValue
        attributes["url.path"] = path
        if let function = RequestTracing.functionName(path: path) { attributes[FunctionSpans.functionKey] = function }
        return try await RequestTracing.withServerSpan(
            "\(request.method.rawValue) \(path)", headers: headers, attributes: attributes, logger: context.logger
        ) { span, logger in
            var context = context
            context.logger = logger
            let response = try await next(request, context)
            if span.isRecording {
                if let route = context.endpointPath { span.operationName = "\(request.method.rawValue) \(route)" }
                let timing = response.headers[HTTPField.Name("Server-Timing")!]
                span.updateAttributes { a in
                    a["http.route"] = context.endpointPath
                    a["http.response.status_code"] = Int(response.status.code)
                    if attributes[FunctionSpans.functionKey] != nil, let timing, timing.contains("infer;") {
                        a[FunctionSpans.coldKey] = timing.hasPrefix("cold;")
                    }
                }
                if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            }
            return response
        }
    }
}
