import Dispatch
import Functions
import Hummingbird
import Logging
import Tracing

/// The one infer path of the V2 protocol, REST (`POST /v2/models/{name}/infer`) and gRPC
/// (`ModelInfer`): only how the request is read and the answer written differ.
extension V2Service {
    /// What one infer request ran: the version that answered, every output, the timing.
    struct InferAnswer: Sendable {
        var version: Int
        var outputs: [Tensor]
        var timing: CallTiming
    }

    /// `POST /v2/models/{name}[/versions/{v}]/infer`.
    func infer(_ request: Request, name: String, version text: String?, logger: Logger) async -> Response {
        do {
            let bodyTimeout = self.bodyTimeout
            return try await infer(
                name: name, version: text, logger: logger,
                decode: { config in
                    let body = try await HTTPBody.collect(
                        request, limit: config.limits.maxBodyBytes, timeout: bodyTimeout)
                    let decoded = try V2InferRequest.decode(
                        body: body, headerLength: request.headers[V2Response.inferenceHeaderLength])
                    return (decoded, body.count)
                },
                encode: { decoded, answer in
                    try V2InferResponse(model: name, version: answer.version, request: decoded, outputs: answer.outputs)
                        .response(extraHeaders: [HeaderNames.serverTiming: answer.timing.headerValue])
                })
        } catch {
            return V2Response.error(error)
        }
    }

    /// Decodes and checks the request (before any load, so a malformed request never costs a
    /// cold start), runs it under the host's rules (admission, cold start, the deadline, the
    /// shorter of the host's and `timeout`), encodes the answer; records the request's metrics
    /// and logs a failure, which it rethrows for the protocol to map.
    func infer<Encoded>(
        name: String, version text: String?, timeout: Duration? = nil, logger: Logger,
        decode: (FunctionConfig) async throws -> (request: V2InferRequest, bodyBytes: Int),
        encode: (V2InferRequest, InferAnswer) throws -> Encoded
    ) async throws -> Encoded {
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        do {
            let (config, signature) = try model(name)
            let version = try Self.version(text, model: name)
            let (decoded, bodyBytes) = try await decode(config)
            // A graph's own signature is known once it is loaded; the kind's is checked first.
            if !signature.definedByModel {
                try signature.check(inputs: decoded.tensors.inputs, dimensions: !signature.sizesVaryByModel)
                try Self.checkRequestedOutputs(decoded, against: signature)
            }
            var request = decoded.tensors
            request.logger = logger
            let tensors = request
            let (answer, timing) = try await host.call(
                name, version: version, bodyBytes: bodyBytes, timeout: timeout
            ) { loaded, call in
                guard let function = loaded.tensors else {
                    throw FunctionError(.internal, "function '\(name)' has no tensor interface")
                }
                if signature.definedByModel {
                    try Self.checkRequestedOutputs(decoded, against: function.tensorSignature)
                }
                return (outputs: try function.run(tensors, call: call), version: call.version)
            }
            let encoded = try host.settings.tracer.withSpan("encode") { span in
                RequestTracing.record(RequestAttributes(function: name), on: span)
                return try encode(
                    decoded, InferAnswer(version: answer.version, outputs: answer.outputs, timing: timing))
            }
            metrics.recordRequest(function: name, status: 200, seconds: seconds(), cold: timing.coldMs != nil)
            return encoded
        } catch {
            let status = Int(V2Response.status(APIError.from(error)).code)
            if host.config(name) != nil {
                metrics.recordRequest(function: name, status: status, seconds: seconds(), cold: false)
            }
            logger.log(
                level: status >= 500 ? .warning : .info, "v2 infer failed",
                metadata: ["model": "\(name)", "status": "\(status)", "error": "\(APIError.from(error).message)"])
            throw error
        }
    }
}
