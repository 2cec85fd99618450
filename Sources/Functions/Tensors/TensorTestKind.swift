import Common
import FoundationEssentials
import ObjectStore

/// `mscr-test-tensor`: a tiny tensor function for testing the V2 adapter without a real model.
/// Its model is one file, `model.txt` (a text prefix). Inputs: `x` FP32 [-1, 2] and `s` BYTES
/// [-1]; outputs: `sum` FP32 [-1] (each row's sum), `lengths` INT32 [-1] (byte count of each
/// element of `s`) and `echo` BYTES [-1] (`<model text>:<element>`).
package struct TensorTestKind: FunctionKind {
    /// The `kind` string of function.json.
    package static let kindName = "mscr-test-tensor"
    /// `x` FP32 [-1, 2], `s` BYTES [-1] → `sum` FP32 [-1], `lengths` INT32 [-1], `echo` BYTES [-1].
    package static let signature = TensorSignature(
        platform: kindName,
        inputs: [TensorSpec("x", .fp32, [-1, 2]), TensorSpec("s", .bytes, [-1])],
        outputs: [
            TensorSpec("sum", .fp32, [-1]), TensorSpec("lengths", .int32, [-1]), TensorSpec("echo", .bytes, [-1]),
        ])

    package var kind: String { Self.kindName }

    package var tensorSignature: TensorSignature? { Self.signature }

    package init() {}

    package func load(config: FunctionConfig, model: ModelVersion) throws -> Loaded {
        let (bytes, _) = try model.read("model.txt")
        let text = String(decoding: bytes, as: UTF8.self).trimmed
        guard text != "fail" else { throw FunctionError(.unavailable, "test model says fail") }
        return Loaded(version: model.version, text: text)
    }

    /// The model's size is its file's (the estimate).
    package func memoryBytes(of loaded: Loaded) -> Int? { nil }

    /// The loaded test model.
    package struct Loaded: TensorFunction {
        /// The repository version.
        package let version: Int
        /// The model text (the prefix of `echo`).
        package let text: String

        package var tensorSignature: TensorSignature { TensorTestKind.signature }

        package func infer(_ request: TensorRequest, call: FunctionCall) throws -> [Tensor] {
            guard case .fp32(let x) = try request.input("x").data, case .bytes(let s) = try request.input("s").data
            else {
                throw FunctionError(.invalidInput, "inputs 'x' (FP32) and 's' (BYTES) are required")
            }
            let rows = x.count / 2
            let sums = (0..<rows).map { x[2 * $0] + x[2 * $0 + 1] }
            let prefix = Array((text + ":").utf8)
            return [
                try Tensor(name: "sum", shape: [rows], data: .fp32(sums)),
                try Tensor(name: "lengths", shape: [s.count], data: .int32(s.map { Int32(clamping: $0.count) })),
                try Tensor(name: "echo", shape: [s.count], data: .bytes(s.map { prefix + $0 })),
            ]
        }
    }
}
