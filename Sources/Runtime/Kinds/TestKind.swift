import Common
import Dispatch
import FoundationEssentials
import Functions
import ObjectStore

#if canImport(Glibc)
import Glibc
#endif

/// `mscr-test`: a function for testing the host and the runtime without a real model
/// (enabled by `MSCR_ENABLE_TEST_FUNCTIONS=1`). Its model is one file, `model.txt`; the load
/// sleeps `params.load_ms`; a request sleeps `?sleep_ms=` and answers with the model text,
/// version and body size.
package struct TestKind: HostedKind {
    package let kind = "mscr-test"

    package init() {}

    package func load(config: FunctionConfig, model: ModelVersion) throws -> any HostedFunction {
        let (bytes, _) = try model.read("model.txt")
        if let ms = config.params["load_ms"], ms > 0 { usleep(useconds_t(ms * 1000)) }
        let text = String(decoding: bytes, as: UTF8.self).trimmed
        if text == "fail" {
            throw FunctionError(.unavailable, "test model says fail")
        }
        return Hosted(version: model.version, text: text, name: config.model, memoryBytes: Self.declaredMemory(config))
    }

    /// `params.memory_mb` stands for the model's size in memory (memory-budget tests).
    package func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int {
        Self.declaredMemory(config) ?? manifest.files.values.reduce(0) { $0 + $1.size }
    }

    static func declaredMemory(_ config: FunctionConfig) -> Int? {
        config.params["memory_mb"].map { Int($0 * 1_048_576) }
    }

    struct Hosted: HostedFunction {
        let version: Int
        let text: String
        let name: String
        let memoryBytes: Int?

        func answer(_ request: FunctionRequest, call: FunctionCall) throws -> FunctionResponse {
            if let s = request.query["sleep_ms"], let ms = Double(s), ms > 0 {
                usleep(useconds_t(min(ms, 60_000) * 1000))
            }
            if request.query["fail"] != nil {
                throw FunctionError(.invalidInput, "asked to fail")
            }
            let object: JSONValue = [
                "model": ["name": name.json, "version": version.json], "text": text.json,
                "bytes": request.body.count.json,
            ]
            return FunctionResponse(body: object.bytes())
        }
    }
}
