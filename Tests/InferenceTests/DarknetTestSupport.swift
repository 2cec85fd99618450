import Foundation
import Testing

@testable import Inference

/// A seeded generator for test data (SplitMix64), separate from the engine's own.
struct DetTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}

/// Files of this repository (test fixtures in `Tests/Support`).
enum RepositoryData {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/InferenceTests/<file> -> repo
        return url
    }()

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: root.appendingPathComponent(relative).path, encoding: .utf8)
    }
}

/// `../shared` next to the repository root.
enum SharedData {
    static let root: String = RepositoryData.root.deletingLastPathComponent().appendingPathComponent("shared").path

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: root + "/" + relative) else {
            throw InferenceError(.invalidInput, "missing test data \(relative)")
        }
        return [UInt8](data)
    }
}

/// Builds one layer from cfg text (a `[net]` of the given input shape followed by `sections`)
/// and returns the last layer, with `weights` loaded when it takes any.
func makeLayers(input: FeatureShape, _ sections: String) throws -> [any DarknetLayer] {
    let cfg = "[net]\nwidth=\(input.width)\nheight=\(input.height)\nchannels=\(input.channels)\n" + sections
    return try DarknetConfig(text: cfg).layers
}

/// Runs `layer` (index `index`) on explicit buffers: `buffers[i + 1]` is layer i's output,
/// `buffers[0]` the network input. Returns the layer's output.
func runLayer(_ layer: any DarknetLayer, index: Int, buffers: [[Float]]) -> [Float] {
    var storage = buffers
    while storage.count < index + 2 { storage.append([]) }
    storage[index + 1] = [Float](repeating: .nan, count: layer.outputShape.count)
    let pointers = storage.map { b -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, b.count))
        p.initialize(from: b, count: b.count)
        return p
    }
    let workspace = UnsafeMutablePointer<Float>.allocate(capacity: max(1, layer.workspaceSize))
    // NaN wherever a kernel must write before it reads: a stray read of stale workspace poisons the output.
    workspace.initialize(repeating: .nan, count: max(1, layer.workspaceSize))
    defer {
        pointers.forEach { $0.deallocate() }
        workspace.deallocate()
    }
    pointers.withUnsafeBufferPointer { table in
        layer.forward(LayerIO(table: table.baseAddress!, index: index, workspace: workspace))
    }
    return Array(UnsafeBufferPointer(start: pointers[index + 1], count: layer.outputShape.count))
}

/// Largest |a − b| relative to max(1, |b|).
func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i]) / max(1, abs(b[i]))
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst
}
