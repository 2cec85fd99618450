import Common
import Dispatch
import FoundationEssentials
import Functions
import HTTPTypes
import Hummingbird
import Logging

extension MSCRServer {
    /// `POST /functions/{name}`: one function call, with `Server-Timing`.
    func addFunctionRoutes(to router: Router<BasicRequestContext>) {
        let host = self.host
        let metrics = self.metrics
        let bodyTimeout = configuration.bodyTimeout
        router.post("/functions/:name") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard let config = host.config(name) else {
                throw FunctionError(
                    .notFound, "no function named '\(name)' (have: \(host.names.joined(separator: ", ")))")
            }
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                let body = try await HTTPBody.collect(request, limit: config.limits.maxBodyBytes, timeout: bodyTimeout)
                var functionRequest = FunctionRequest(
                    body: body, contentType: request.headers[.contentType], query: HTTPBody.query(request))
                functionRequest.logger = context.logger
                let trace = RequestTracing.Headers(request.headers)
                functionRequest.traceID =
                    TraceContext.parse(cloudTrace: trace.cloudTrace, traceparent: trace.traceparent)?.traceID
                let (result, timing) = try await host.call(name, bodyBytes: body.count) {
                    [functionRequest] function, call in
                    try function.answer(functionRequest, call: call)
                }
                metrics.recordRequest(
                    function: name, status: result.status,
                    seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cold: timing.coldMs != nil)
                if let cold = timing.coldMs {
                    context.logger.info(
                        "cold start",
                        metadata: [
                            "function": "\(name)", "wait_ms": "\(cold)",
                            "fetch_ms": "\(timing.load?.fetchMs ?? 0)", "parse_ms": "\(timing.load?.parseMs ?? 0)",
                            "version": "\(timing.load?.version ?? 0)",
                        ])
                }
                return Response(
                    status: .init(code: result.status),
                    headers: [.contentType: result.contentType, HeaderNames.serverTiming: timing.headerValue],
                    body: .init(byteBuffer: ByteBuffer(bytes: result.body)))
            } catch {
                let api = APIError.from(error)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                metrics.recordRequest(function: name, status: Int(api.status.code), seconds: seconds, cold: false)
                var response = api.response()
                response.headers[HeaderNames.serverTiming] = "total;dur=\((seconds * 1000).fixed(3))"
                context.logger.log(
                    level: api.status.code >= 500 ? .warning : .info, "function request failed",
                    metadata: ["function": "\(name)", "status": "\(api.status.code)", "error": "\(api.message)"])
                return response
            }
        }
    }
}
