/// The header of a Darknet `.weights` file.
package struct DarknetWeightsHeader: Sendable, Equatable {
    package var major: Int32
    package var minor: Int32
    package var revision: Int32
    /// Images seen in training; 64-bit when `major·10 + minor >= 2`, else 32-bit.
    package var seen: UInt64

    /// Bytes of the header: 12 + 8 (64-bit `seen`) or 12 + 4.
    package var size: Int { Self.seenIs64Bit(major: major, minor: minor) ? 20 : 16 }

    package static func seenIs64Bit(major: Int32, minor: Int32) -> Bool { Int(major) * 10 + Int(minor) >= 2 }
}

/// Parses a `.weights` file from a byte stream, chunks of any size, so a model is parsed while
/// it downloads: each layer's floats go straight into that layer's buffer and the layer is
/// built (batch-norm folded) as soon as its last byte arrives; nothing keeps the whole file.
/// `finish()` checks the file held exactly the bytes the cfg implies (little-endian floats).
package struct DarknetWeightsReader {
    package let config: DarknetConfig
    package private(set) var header: DarknetWeightsHeader?
    /// Bytes consumed so far.
    package private(set) var bytesConsumed = 0

    /// Layers with weights, in file order.
    private let targets: [Int]
    private var target = 0
    private var buffer: [Float] = []
    private var bufferBytes = 0
    private var headerBytes: [UInt8] = []
    private var loaded: [Int: any DarknetLayer] = [:]

    package init(config: DarknetConfig) {
        self.config = config
        targets = config.layers.indices.filter { config.layers[$0].weightCount > 0 }
    }

    /// Total bytes the file must have (known once the header's version is read).
    package var expectedBytes: Int? {
        guard let header else { return nil }
        return header.size + 4 * config.weightCount
    }

    package mutating func consume(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try consume($0) }
    }

    package mutating func consume(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < chunk.count {
            if header == nil {
                offset += try readHeader(chunk, from: offset)
                continue
            }
            guard target < targets.count else {
                throw InferenceError(
                    .invalidWeights,
                    "weights file is longer than the cfg implies: expected \(expectedBytes ?? 0) bytes, got at least \(bytesConsumed + chunk.count - offset) (extra bytes after layer \(targets.last.map(describe) ?? "none"))"
                )
            }
            let layerIndex = targets[target]
            let need = 4 * config.layers[layerIndex].weightCount
            if buffer.isEmpty { buffer = [Float](repeating: 0, count: need / 4) }
            let n = min(need - bufferBytes, chunk.count - offset)
            let start = bufferBytes
            buffer.withUnsafeMutableBytes { dst in
                dst.baseAddress!.advanced(by: start).copyMemory(
                    from: chunk.baseAddress!.advanced(by: offset), byteCount: n)
            }
            bufferBytes += n
            offset += n
            bytesConsumed += n
            if bufferBytes == need {
                do {
                    loaded[layerIndex] = try config.layers[layerIndex].loadingWeights(buffer)
                } catch let error as InferenceError {
                    throw InferenceError(error.code, "layer \(describe(layerIndex)): \(error.message)")
                }
                buffer = []
                bufferBytes = 0
                target += 1
            }
        }
    }

    /// Checks the file is complete and returns the layers with their weights.
    package func finish() throws -> [any DarknetLayer] {
        guard let expected = expectedBytes else {
            throw InferenceError(
                .invalidWeights,
                "weights file ends inside its header: got \(bytesConsumed) bytes, a header needs at least 16")
        }
        guard target == targets.count else {
            throw InferenceError(
                .invalidWeights,
                "weights file is shorter than the cfg implies: expected \(expected) bytes, got \(bytesConsumed); it ends inside layer \(describe(targets[target]))"
            )
        }
        return config.layers.indices.map { loaded[$0] ?? config.layers[$0] }
    }

    private mutating func readHeader(_ chunk: UnsafeRawBufferPointer, from offset: Int) throws -> Int {
        let need = headerBytes.count < 12 ? 12 : (Self.headerSize(headerBytes) ?? 12)
        let n = min(need - headerBytes.count, chunk.count - offset)
        headerBytes.append(contentsOf: chunk[offset..<(offset + n)])
        bytesConsumed += n
        if headerBytes.count == 12 {
            let major = int32(at: 0)
            let minor = int32(at: 4)
            let revision = int32(at: 8)
            guard major >= 0, minor >= 0, revision >= 0 else {
                throw InferenceError(
                    .invalidWeights, "not a Darknet weights file: header version \(major).\(minor).\(revision)")
            }
        }
        if headerBytes.count > 12, headerBytes.count == Self.headerSize(headerBytes) {
            let major = int32(at: 0)
            let minor = int32(at: 4)
            var seen: UInt64 = 0
            for i in (12..<headerBytes.count).reversed() { seen = seen << 8 | UInt64(headerBytes[i]) }
            header = DarknetWeightsHeader(major: major, minor: minor, revision: int32(at: 8), seen: seen)
        }
        return n
    }

    private static func headerSize(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 12 else { return nil }
        func i32(_ at: Int) -> Int32 {
            Int32(
                bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(
                    bytes[at + 3]) << 24)
        }
        return DarknetWeightsHeader.seenIs64Bit(major: i32(0), minor: i32(4)) ? 20 : 16
    }

    private func int32(at i: Int) -> Int32 {
        Int32(
            bitPattern: UInt32(headerBytes[i]) | UInt32(headerBytes[i + 1]) << 8
                | UInt32(headerBytes[i + 2]) << 16 | UInt32(headerBytes[i + 3]) << 24)
    }

    private func describe(_ layer: Int) -> String {
        let l = config.layers[layer]
        var text = "\(layer) [\(l.type)]"
        if let conv = l as? ConvolutionalLayer {
            text +=
                " (filters=\(conv.filters) size=\(conv.size) groups=\(conv.groups) batch_normalize=\(conv.batchNormalize ? 1 : 0), \(4 * l.weightCount) bytes)"
        }
        return text
    }
}
