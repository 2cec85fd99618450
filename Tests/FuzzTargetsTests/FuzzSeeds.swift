import Foundation
import Functions
import FuzzTargets
import Inference

/// Valid inputs for each fuzz target, and the mutations the tests (and scripts/fuzz.sh's seed
/// corpus) start from.
enum FuzzSeeds {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared").standardized

    /// The committed tf2onnx export of the original stack's Keras LSTM (scripts/keras-lstm-onnx.py).
    static let kerasLSTM = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/keras-lstm/model.onnx").standardized

    /// A 5×4 RGB PNG (80 bytes).
    static let png: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 5, 0, 0, 0, 4, 8, 2, 0, 0, 0, 201, 81,
        98, 23, 0, 0, 0, 23, 73, 68, 65, 84, 120, 156, 99, 100, 248, 207, 192, 245, 141, 25, 142, 88, 140, 206, 241,
        147, 194, 7, 0, 141, 183, 20, 106, 132, 86, 239, 202, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
    ]

    static func seeds(for target: FuzzTarget) throws -> [[UInt8]] {
        switch target {
        case .image:
            let pixels = (0..<(12 * 9 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let jpeg = try ImageCodec.encodeJPEG(try RGBImage(width: 12, height: 9, pixels: pixels))
            return [jpeg, png]
        case .csv:
            let csv = (0..<9).map { i in "\(100 + i),\(102 + i),\(99 + i),\(1000 * (i + 1)),\(101 + i)" }
                .joined(separator: "\n")
            let yahoo =
                "Date,Open,High,Low,Close,Adj Close,Volume\n"
                + (1...9).map { "2024-01-0\($0),1\($0),2\($0),0.5,1.5,1.5,100\($0)" }.joined(separator: "\n")
            let json = "{\"rows\": [" + (0..<9).map { _ in "[1,2,0.5,100,1.5]" }.joined(separator: ",") + "]}"
            // Flags: 1 JSON, 2 newest first, 4 a multipart form's `file` part.
            return [[0] + Array(csv.utf8), [2] + Array(yahoo.utf8), [1] + Array(json.utf8), [5] + Array(json.utf8)]
        case .cfg:
            var seeds = [Array(FuzzTarget.weightsCfgText.utf8)]
            let fastest = shared.appendingPathComponent("data/models/yolo-fastest-1.1/yolo-fastest-1.1.cfg")
            if let text = try? Data(contentsOf: fastest) { seeds.append([UInt8](text)) }
            return seeds
        case .weights:
            let config = try FuzzTarget.weightsConfig()
            var bytes: [UInt8] = [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
            for i in 0..<config.weightCount {
                let bits = (Float(i % 17) * 0.1 + 0.5).bitPattern
                bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
            }
            return [[63] + bytes, [0] + bytes]
        case .v2:
            let json =
                #"{"id":"1","inputs":[{"name":"window","shape":[1,2,5],"datatype":"FP32","data":[1,2,3,4,5,6,7,8,9,10]}],"outputs":[{"name":"close"}]}"#
            let header =
                #"{"inputs":[{"name":"window","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#
            let binary = Array(header.utf8) + [0, 0, 128, 63, 0, 0, 0, 64]
            return [[0] + Array(json.utf8), [UInt8(header.utf8.count)] + binary]
        case .onnx:
            // First byte: import batch (odd = 3); then tf2onnx's export of the Keras stock LSTM.
            let lstm = [UInt8](try Data(contentsOf: kerasLSTM))
            return [[0] + lstm, [1] + lstm]
        case .grpc:
            return FuzzTarget.grpcSeeds
        }
    }

    /// One to four random edits: flip a bit, set a byte to an interesting value, insert or
    /// delete a run, duplicate a slice, or truncate.
    static func mutate(_ seed: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var out = seed
        let interesting: [UInt8] = [
            0, 1, 0x7F, 0x80, 0xFF, UInt8(ascii: "["), UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "-"),
            UInt8(ascii: "9"),
        ]
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !out.isEmpty else {
                out = [UInt8.random(in: 0...255, using: &rng)]
                continue
            }
            let i = Int.random(in: 0..<out.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: out[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1: out[i] = interesting.randomElement(using: &rng)!
            case 2:
                out.insert(
                    contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in
                        UInt8.random(in: 0...255, using: &rng)
                    }, at: i)
            case 3: out.removeSubrange(i..<min(out.count, i + Int.random(in: 1...16, using: &rng)))
            case 4:
                let end = min(out.count, i + Int.random(in: 1...32, using: &rng))
                out.insert(contentsOf: out[i..<end], at: Int.random(in: 0...out.count, using: &rng))
            default: out.removeSubrange(i...)
            }
        }
        return out
    }
}
