import Functions
import HTTPTypes
import Hummingbird
import Tracing

/// The REST transport's server span: one per request, named `METHOD route`, with the HTTP
/// attributes of the OpenTelemetry conventions and `mscr.function` / `mscr.cold` for function
/// calls. Added to the router only when tracing is on. The attributes are set once, when the
/// response is known, as ``RequestAttributes`` fields (no attribute dictionary).
struct RequestTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    static var traceparentName: HTTPField.Name { HTTPField.Name("traceparent")! }
    static var tracestateName: HTTPField.Name { HTTPField.Name("tracestate")! }
    static var cloudTraceName: HTTPField.Name { HTTPField.Name("X-Cloud-Trace-Context")! }
    static var serverTimingName: HTTPField.Name { HTTPField.Name("Server-Timing")! }

    let tracer: any Tracer
    let traceparent = Self.traceparentName
    let tracestate = Self.tracestateName
    let cloudTrace = Self.cloudTraceName
    let serverTiming = Self.serverTimingName

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let headers = RequestTracing.Headers(
            traceparent: request.headers[traceparent], tracestate: request.headers[tracestate],
            cloudTrace: request.headers[cloudTrace])
        let path = request.uri.path
        let method = request.method.rawValue
        let route = context.endpointPath
        return try await RequestTracing.withServerSpan(
            "\(method) \(route ?? path)", headers: headers, tracer: tracer, logger: context.logger
        ) { span, logger in
            var context = context
            context.logger = logger
            guard span.isRecording else { return try await next(request, context) }
            var a = RequestAttributes(method: method, path: path)
            let function = RequestTracing.functionName(path: path)
            a.function = function
            let response: Response
            do {
                response = try await next(request, context)
            } catch {
                RequestTracing.record(a, on: span)
                throw error
            }
            if let endpoint = context.endpointPath {
                if endpoint != route { span.operationName = "\(method) \(endpoint)" }
                a.route = endpoint
            }
            a.status = Int(response.status.code)
            if function != nil, let timing = Self.first(serverTiming, in: response.headers),
                RequestTracing.hasInferMetric(timing)
            {
                a.cold = timing.utf8.starts(with: "cold;".utf8)
            }
            RequestTracing.record(a, on: span)
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
