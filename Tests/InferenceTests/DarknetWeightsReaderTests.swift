import Testing

@testable import Inference

@Suite("Darknet weights reader")
struct DarknetWeightsReaderTests {
    static let cfg = """
        [net]
        width=8
        height=8
        channels=3
        [convolutional]
        batch_normalize=1
        filters=4
        size=3
        pad=1
        activation=leaky
        [maxpool]
        size=2
        stride=2
        [convolutional]
        filters=6
        size=1
        groups=2
        activation=linear
        """

    /// A weights file for `cfg`: header (64-bit or 32-bit `seen`) then `floats`.
    static func file(minor: Int32 = 2, floats: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        for v in [Int32(0), minor, 5] { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        if minor >= 2 {
            withUnsafeBytes(of: UInt64(1234).littleEndian) { bytes += $0 }
        } else {
            withUnsafeBytes(of: Int32(1234).littleEndian) { bytes += $0 }
        }
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    static func validFloats(_ config: DarknetConfig) -> [Float] {
        var rng = DetTestRandom(seed: 21)
        return rng.floats(config.weightCount, in: 0.5...1.5)  // positive, so variances are valid
    }

    @Test(arguments: [1, 3, 7, 64, 1 << 20])
    func chunkSizeDoesNotMatter(_ chunk: Int) throws {
        let config = try DarknetConfig(text: Self.cfg)
        #expect(config.weightCount == 4 * 4 + 4 * 27 + 6 + 6 * 2)
        let bytes = Self.file(floats: Self.validFloats(config))
        var whole = DarknetWeightsReader(config: config)
        try whole.consume(bytes)
        var pieces = DarknetWeightsReader(config: config)
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try pieces.consume(Array(bytes[start..<min(bytes.count, start + chunk)]))
        }
        #expect(pieces.bytesConsumed == bytes.count)
        #expect(pieces.expectedBytes == bytes.count)
        #expect(pieces.header == DarknetWeightsHeader(major: 0, minor: 2, revision: 5, seen: 1234))
        let a = try whole.finish()
        let b = try pieces.finish()
        let ca = try #require(a[2] as? ConvolutionalLayer)
        let cb = try #require(b[2] as? ConvolutionalLayer)
        #expect(ca.weights == cb.weights && !ca.weights.isEmpty)
        #expect((a[0] as? ConvolutionalLayer)?.bias == (b[0] as? ConvolutionalLayer)?.bias)
    }

    @Test func thirtyTwoBitSeenHeader() throws {
        let config = try DarknetConfig(text: Self.cfg)
        var reader = DarknetWeightsReader(config: config)
        try reader.consume(Self.file(minor: 1, floats: Self.validFloats(config)))
        #expect(reader.header?.size == 16)
        #expect(reader.expectedBytes == 16 + 4 * config.weightCount)
        _ = try reader.finish()
    }

    @Test func shortFileNamesTheLayerAndCounts() throws {
        let config = try DarknetConfig(text: Self.cfg)
        let bytes = Self.file(floats: Self.validFloats(config))
        var reader = DarknetWeightsReader(config: config)
        try reader.consume(Array(bytes.dropLast(8)))
        let error = try #require(throws: InferenceError.self) { try reader.finish() }
        #expect(error.code == .invalidWeights)
        #expect(error.message.contains("expected \(bytes.count)") && error.message.contains("got \(bytes.count - 8)"))
        #expect(error.message.contains("layer 2 [convolutional]"))
    }

    @Test func longFileIsAnError() throws {
        let config = try DarknetConfig(text: Self.cfg)
        let bytes = Self.file(floats: Self.validFloats(config) + [1])
        var reader = DarknetWeightsReader(config: config)
        let error = try #require(throws: InferenceError.self) { try reader.consume(bytes) }
        #expect(error.message.contains("expected \(bytes.count - 4)"))
    }

    @Test func emptyOrHeaderOnlyFilesAreErrors() throws {
        let config = try DarknetConfig(text: Self.cfg)
        let empty = DarknetWeightsReader(config: config)
        #expect(throws: InferenceError.self) { try empty.finish() }
        var negative = DarknetWeightsReader(config: config)
        #expect(throws: InferenceError.self) {
            try negative.consume([0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16))
        }
    }

    @Test(arguments: ["yolo-fastest-1.1", "yolo-fastest-1.1-xl"])
    func consumesExactlyTheRealFiles(_ model: String) throws {
        let config = try DarknetConfig(text: try SharedData.text("data/models/\(model)/\(model).cfg"))
        let bytes = try SharedData.bytes("data/models/\(model)/\(model).weights")
        var reader = DarknetWeightsReader(config: config)
        for start in stride(from: 0, to: bytes.count, by: 65_536) {
            try bytes[start..<min(bytes.count, start + 65_536)].withUnsafeBytes { try reader.consume($0) }
        }
        #expect(reader.bytesConsumed == bytes.count && reader.expectedBytes == bytes.count)
        let layers = try reader.finish()
        #expect(layers.allSatisfy { !($0 is ConvolutionalLayer) || !($0 as! ConvolutionalLayer).weights.isEmpty })
    }
}
