import Dispatch
import Functions
import HTTPTypes
import Hummingbird
import Logging
import Tracing

/// The handlers of the Open Inference Protocol (KServe V2) REST API. A V2 model is a
/// function whose kind has a tensor signature (`FunctionKind.tensorSignature`); its V2 name is the
/// function's name and its versions are the repository versions of the function's model.
struct V2Service: Sendable {
    /// `GET /v2`: the server's name, version and protocol extensions.
    static let serverName = "mscr"
    /// The release (kept equal to the CLI's `--version`).
    static let serverVersion = "0.1.0"
    static let extensions = ["binary_tensor_data"]

    let host: RuntimeHost
    let metrics: RuntimeMetrics
    /// `MSCR_BODY_TIMEOUT`.
    let bodyTimeout: Duration

    func serverMetadata() -> Response {
        V2Response.json(
            "{\"name\":\(V2Response.quote(Self.serverName)),\"version\":\(V2Response.quote(Self.serverVersion)),"
                + "\"extensions\":\(V2Response.strings(Self.extensions))}")
    }

    /// The function behind V2 model `name` and its static signature (404 when there is none).
    func model(_ name: String) throws -> (FunctionConfig, TensorSignature) {
        guard let config = host.config(name), let signature = host.tensorSignature(name) else {
            let models = host.names.filter { host.tensorSignature($0) != nil }
            throw FunctionError(.notFound, "unknown model '\(name)' (models: \(models.joined(separator: ", ")))")
        }
        return (config, signature)
    }

    /// The version of a `/versions/{v}` path: a positive integer, else the model has no such version (404).
    static func version(_ text: String?, model: String) throws -> Int? {
        guard let text else { return nil }
        guard let v = Int(text), v > 0 else {
            throw FunctionError(.notFound, "model '\(model)' has no version '\(text)' (versions are positive integers)")
        }
        return v
    }

    /// Committed versions of the function's model, read from the repository on the load pool.
    func repositoryVersions(_ config: FunctionConfig) async throws -> [Int] {
        let repository = host.repository
        let model = config.model
        return try await host.runBlocking { try repository.versions(of: model) }
    }

    /// What `GET /v2/models/{name}[/versions/{v}]` (and gRPC's ModelMetadata) tells of a model.
    struct ModelMetadata: Sendable {
        var name: String
        var versions: [String]
        var platform: String
        var inputs: [TensorSpec]
        var outputs: [TensorSpec]
    }

    /// `GET /v2/models/{name}[/versions/{v}]`.
    func modelMetadata(name: String, version text: String?) async -> Response {
        do {
            let m = try await metadata(name: name, version: text)
            return V2Response.json(
                "{\"name\":\(V2Response.quote(m.name)),\"versions\":\(V2Response.strings(m.versions)),"
                    + "\"platform\":\(V2Response.quote(m.platform)),"
                    + "\"inputs\":\(V2Response.specs(m.inputs)),\"outputs\":\(V2Response.specs(m.outputs))}"
            )
        } catch {
            return V2Response.error(error)
        }
    }

    /// A model's metadata; throws `notFound` for an unknown model or version.
    func metadata(name: String, version text: String?) async throws -> ModelMetadata {
        let (config, staticSignature) = try model(name)
        let version = try Self.version(text, model: name)
        let available = try await repositoryVersions(config)
        if let version, !available.contains(version) {
            throw FunctionError(
                .notFound,
                "model '\(name)' has no version \(version) (versions: \(available.map(String.init).joined(separator: ", ")))"
            )
        }
        var signature = staticSignature
        if staticSignature.definedByModel {
            // Only the graph knows its tensors: metadata loads the model (a cold start).
            let (loaded, _) = try await host.call(name, version: version) { loaded, _ in
                loaded.tensors?.tensorSignature
            }
            guard let loaded else { throw FunctionError(.internal, "function '\(name)' has no tensor interface") }
            signature = loaded
        } else if staticSignature.sizesVaryByModel,
            let serving = await servingSignature(name: name, version: version)
        {
            signature = serving
        }
        let versions = version.map { [String($0)] } ?? available.map(String.init)
        return ModelMetadata(
            name: name, versions: versions, platform: signature.platform, inputs: signature.inputs,
            outputs: signature.outputs)
    }

    /// The signature of the loaded model when `name` is warm on `version` (or any version when
    /// nil): a loaded model may refine the static one (a stock model's window length). Asked
    /// through the host (it counts as a request of the function), only when warm, so it never
    /// loads anything; any failure falls back to the static signature.
    private func servingSignature(name: String, version: Int?) async -> TensorSignature? {
        guard let status = host.status().first(where: { $0.name == name }), status.state == .warm,
            let serving = status.version, version == nil || version == serving
        else { return nil }
        let answer = try? await host.call(name, version: serving) { loaded, _ in
            loaded.tensors?.tensorSignature
        }
        return answer?.0 ?? nil
    }

    /// `GET /v2/models/{name}[/versions/{v}]/ready`: 200 when the model (version) is loaded,
    /// 400 when it is not yet (it loads on its first infer request), 404 when unknown.
    func modelReady(name: String, version text: String?) async -> Response {
        do {
            if let notReady = try await readiness(name: name, version: text) {
                return V2Response.error(.badRequest, notReady)
            }
            return V2Response.json("{\"name\":\(V2Response.quote(name)),\"ready\":true}")
        } catch {
            return V2Response.error(error)
        }
    }

    /// Nil when the model (version) is loaded, else why it is not ready; throws `notFound` for
    /// an unknown model or version.
    func readiness(name: String, version text: String?) async throws -> String? {
        let (config, _) = try model(name)
        let version = try Self.version(text, model: name)
        let status = host.status().first { $0.name == name }
        let serving = status?.state == .warm ? status?.version : nil
        if let serving, version == nil || version == serving { return nil }
        if let version, !(try await repositoryVersions(config)).contains(version) {
            throw FunctionError(.notFound, "model '\(name)' has no version \(version)")
        }
        let state = status?.state.rawValue ?? "cold"
        return
            "model '\(name)'\(version.map { " version \($0)" } ?? "") is not ready (\(state)); an infer request loads it"
    }

    /// Every output the request asks for by name must be one the model has.
    static func checkRequestedOutputs(_ decoded: V2InferRequest, against signature: TensorSignature) throws {
        for wanted in decoded.outputs ?? [] where signature.output(wanted.name) == nil {
            throw FunctionError(
                .invalidInput,
                "the model has no output named '\(wanted.name)' (outputs: \(signature.outputs.map(\.name).joined(separator: ", ")))"
            )
        }
    }
}
