import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Tracing

/// The one middleware every request passes: turns every error thrown below it into the JSON
/// error shape, tags the request's logger with its trace, logs one line per request, and, when
/// tracing is on, runs the request in its server span (`ErrorAndTraceMiddleware+Span.swift`).
struct ErrorAndTraceMiddleware<Context: RequestContext>: RouterMiddleware {
    let project: String?
    let metrics: RuntimeMetrics
    /// The tracer of the server spans; nil when tracing is off.
    let tracer: RequestTracing.ServerTracer?

    init(project: String?, metrics: RuntimeMetrics, tracer: (any Tracer)?) {
        self.project = project
        self.metrics = metrics
        self.tracer = tracer.map(RequestTracing.ServerTracer.init)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Built once (`URI.path` makes a new string on every call).
        let path = request.uri.path
        if let tracer { return try await traced(request, path: path, context: context, tracer: tracer, next: next) }
        return try await respond(request, path: path, context: context, next: next)
    }

    /// The request's response, every error mapped to one. `spanLogged`: the request has a
    /// recording server span, whose ids its log lines carry; otherwise they carry the caller's
    /// trace, when it sent one.
    func respond(
        _ request: Request, path: String, context: Context, spanLogged: Bool = false,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if !spanLogged {
            let headers = RequestTracing.Headers(request.headers)
            if let trace = TraceContext.parse(cloudTrace: headers.cloudTrace, traceparent: headers.traceparent),
                context.logger[metadataKey: "trace"] == nil
            {
                context.logger[metadataKey: "trace"] = .string(trace.traceID)
                if let span = trace.spanID { context.logger[metadataKey: "span"] = .string(span) }
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let api = APIError.from(error)
            let level: Logger.Level = api.status.code >= 500 ? .error : .info
            context.logger.log(
                level: level, "request failed",
                metadata: [
                    "method": "\(request.method)", "path": "\(path)", "status": "\(api.status.code)",
                    "error_code": "\(api.code)", "error": "\(api.message)",
                ])
            response = api.response()
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        if !path.hasPrefix("/functions/") || request.method != .post {
            metrics.recordOther(route: Self.routeLabel(path), status: Int(response.status.code))
        }
        context.logger.debug(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(path)",
                "status": "\(response.status.code)", "latency_ms": "\(ms)",
            ])
        return response
    }

    /// Bounded label values: unknown paths collapse into "other".
    static func routeLabel(_ path: String) -> String {
        if path.hasPrefix("/v2") { return "/v2" }
        if path.hasPrefix("/admin/") { return "/admin" }
        switch path {
        case "/", "/healthz", "/readyz", "/functions", "/metrics", "/openapi.json": return path
        default: return path.hasPrefix("/static/") ? "/static" : "other"
        }
    }
}
