import Functions
import HTTPTypes
import Hummingbird

extension MSCRServer {
    /// The Open Inference Protocol (KServe V2) REST routes, and `GET /openapi.json` (the
    /// OpenAPI document of the whole HTTP API, native and V2).
    func addV2Routes(to router: Router<BasicRequestContext>) {
        let v2 = V2Service(host: host, metrics: metrics, bodyTimeout: configuration.bodyTimeout)
        let document = OpenAPIDocument.load(webRoot: configuration.webRoot)
        router.get("/openapi.json") { _, _ in try document.response() }
        router.get("/v2") { _, _ in v2.serverMetadata() }
        router.get("/v2/health/live") { _, _ in V2Response.json("{\"live\":true}") }
        router.get("/v2/health/ready") { _, _ in V2Response.json("{\"ready\":true}") }
        router.get("/v2/models/:name") { _, context in
            await v2.modelMetadata(name: context.parameters.get("name") ?? "", version: nil)
        }
        router.get("/v2/models/:name/versions/:version") { _, context in
            await v2.modelMetadata(
                name: context.parameters.get("name") ?? "", version: context.parameters.get("version") ?? "")
        }
        router.get("/v2/models/:name/ready") { _, context in
            await v2.modelReady(name: context.parameters.get("name") ?? "", version: nil)
        }
        router.get("/v2/models/:name/versions/:version/ready") { _, context in
            await v2.modelReady(
                name: context.parameters.get("name") ?? "", version: context.parameters.get("version") ?? "")
        }
        router.post("/v2/models/:name/infer") { request, context in
            await v2.infer(request, name: context.parameters.get("name") ?? "", version: nil, logger: context.logger)
        }
        router.post("/v2/models/:name/versions/:version/infer") { request, context in
            await v2.infer(
                request, name: context.parameters.get("name") ?? "", version: context.parameters.get("version") ?? "",
                logger: context.logger)
        }
        // Other paths under /v2 (e.g. Triton's model config and repository extensions) answer
        // 404 in the protocol's error shape, so protocol clients can read the message.
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/v2/**", method: method) { request, _ in
                V2Response.error(
                    .notFound,
                    "no V2 endpoint \(request.method) \(request.uri.path) (mscr speaks: \(V2Service.extensions.joined(separator: ", ")) and the core protocol)"
                )
            }
        }
    }
}
