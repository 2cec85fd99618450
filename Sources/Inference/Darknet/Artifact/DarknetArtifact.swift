import Common

/// The compiled artifact of a Darknet model (`model.compiled`, docs/formats.md): the cfg and
/// every convolution's weights already in execution layout (batch-norm folded, Winograd
/// regrouped or panel packed, exactly as `DarknetWeightsReader` leaves them), page-aligned, so
/// loading is a memory map: the layers' weights are views into the mapping.
///
/// Layout: a 24-byte preamble (`magic`, format version u32 LE, page size u32 LE, header length
/// u64 LE), the header JSON, then per convolution its weights (at a page boundary) and its bias
/// (64-byte aligned), little-endian floats.
package enum DarknetArtifact {
    /// `MSCRART` and a NUL.
    package static let magic: [UInt8] = [0x4D, 0x53, 0x43, 0x52, 0x41, 0x52, 0x54, 0x00]
    /// The version of this layout; a reader uses only artifacts of its own version.
    package static let formatVersion: UInt32 = 3
    package static let pageSize = 4096
    package static let preambleSize = 24

    /// Compiles `cfg` and `.weights` bytes into an artifact.
    package static func compile(cfg: String, weights: [UInt8]) throws -> [UInt8] {
        let config = try DarknetConfig(text: cfg)
        var reader = DarknetWeightsReader(config: config)
        try reader.consume(weights)
        return try write(cfg: cfg, layers: try reader.finish())
    }

    /// Lays out `layers` (as `DarknetWeightsReader.finish()` returns them, before residual fusion).
    /// `target` is recorded in the header (tests write foreign ones).
    package static func write(
        cfg: String, layers: [any DarknetLayer], target: ArtifactTarget = .current, version: UInt32 = formatVersion
    ) throws -> [UInt8] {
        var entries: [JSONValue] = []
        var regions: [(offset: Int, floats: [Float])] = []
        var cursor = 0  // relative to the first page after the header
        for (i, layer) in layers.enumerated() where layer.weightCount > 0 {
            guard let conv = layer as? ConvolutionalLayer else {
                throw InferenceError(.invalidModel, "layer \(i) [\(layer.type)] has weights but cannot be compiled")
            }
            let w = conv.weights.array
            let weightsAt = cursor
            let biasAt = align(weightsAt + 4 * w.count, 64)
            cursor = align(biasAt + 4 * conv.bias.count, pageSize)
            regions.append((weightsAt, w))
            regions.append((biasAt, conv.bias))
            entries.append([
                "index": i.json, "layout": conv.weightLayout.json, "weights": weightsAt.json,
                "weightCount": w.count.json, "bias": biasAt.json, "biasCount": conv.bias.count.json,
            ])
        }
        let header: JSONValue = [
            "format": "darknet-yolo", "target": target.json, "cfg": cfg.json, "layers": .array(entries),
            "dataBytes": cursor.json,
        ]
        let json = header.bytes()
        let dataStart = align(preambleSize + json.count, pageSize)
        var out = [UInt8](repeating: 0, count: dataStart + cursor)
        out.replaceSubrange(0..<8, with: magic)
        put(version, at: 8, in: &out)
        put(UInt32(pageSize), at: 12, in: &out)
        put(UInt64(json.count), at: 16, in: &out)
        out.replaceSubrange(preambleSize..<(preambleSize + json.count), with: json)
        out.withUnsafeMutableBytes { dst in
            for region in regions {
                region.floats.withUnsafeBytes { src in
                    dst.baseAddress!.advanced(by: dataStart + region.offset).copyMemory(
                        from: src.baseAddress!, byteCount: src.count)
                }
            }
        }
        return out
    }

    /// Builds the network from an artifact at `base` (`count` bytes, page-aligned, already
    /// verified against the manifest), its weights views into that memory, which `owner` keeps
    /// alive (and unchanged) as long as the network lives. Throws `incompatibleArtifact` for
    /// another format version, CPU target, or kernel choice of this build (use the sources then),
    /// `invalidModel` for an artifact that is not well formed.
    package static func load(
        _ base: UnsafeRawPointer, count: Int, owner: any AnyObject & Sendable, concurrency: Int = 4,
        warmUp: Bool = true
    ) throws -> DarknetNetwork {
        let (header, dataStart) = try readHeader(base, count: count)
        guard let target = ArtifactTarget(json: header["target"]) else { throw malformed("the header has no target") }
        guard target == ArtifactTarget.current else {
            throw InferenceError(
                .incompatibleArtifact,
                "the artifact was laid out for \(target); this build runs \(ArtifactTarget.current)")
        }
        guard let cfg = header["cfg"]?.stringValue, let entries = header["layers"]?.elements,
            let dataBytes = header["dataBytes"]?.intValue
        else { throw malformed("the header lacks cfg, layers or dataBytes") }
        guard dataBytes >= 0, dataStart + dataBytes == count else {
            throw malformed("it is \(count) bytes, its header says \(dataStart + dataBytes) (truncated?)")
        }
        let config = try DarknetConfig(text: cfg)
        var layers = config.layers
        var covered = Set<Int>()
        let data = base + dataStart
        for entry in entries {
            guard let i = entry["index"]?.intValue, let layout = entry["layout"]?.stringValue,
                let w = entry["weights"]?.intValue, let wn = entry["weightCount"]?.intValue,
                let b = entry["bias"]?.intValue, let bn = entry["biasCount"]?.intValue
            else { throw malformed("a layer entry lacks index, layout, weights or bias") }
            guard i >= 0, i < layers.count, let conv = layers[i] as? ConvolutionalLayer, covered.insert(i).inserted
            else { throw malformed("layer entry \(i) does not name a convolutional layer of its cfg once") }
            guard layout == conv.weightLayout else {
                throw InferenceError(
                    .incompatibleArtifact,
                    "layer \(i) was laid out as \(layout), this build runs it as \(conv.weightLayout)")
            }
            guard w >= 0, b >= 0, wn >= 0, bn >= 0, w % 64 == 0, b % 4 == 0, w + 4 * wn <= dataBytes,
                b + 4 * bn <= dataBytes
            else { throw malformed("layer \(i)'s regions lie outside the data or are misaligned") }
            let weights = WeightStorage(
                view: (data + w).assumingMemoryBound(to: Float.self), count: wn, owner: owner)
            let bias = Array(UnsafeBufferPointer(start: (data + b).assumingMemoryBound(to: Float.self), count: bn))
            do {
                layers[i] = try conv.loadingCompiled(weights: weights, bias: bias)
            } catch let error as InferenceError {
                throw malformed("layer \(i): \(error.message)")
            }
        }
        for (i, layer) in layers.enumerated() where layer.weightCount > 0 && !covered.contains(i) {
            throw malformed("layer \(i) [\(layer.type)] has no weights in the artifact")
        }
        return try DarknetNetwork(config: config, layers: layers, concurrency: concurrency, warmUp: warmUp)
    }

    /// The header JSON and where the data starts; throws for bytes that are not an artifact of
    /// this format version.
    package static func readHeader(_ base: UnsafeRawPointer, count: Int) throws -> (JSONValue, Int) {
        guard count >= preambleSize, (0..<8).allSatisfy({ base.load(fromByteOffset: $0, as: UInt8.self) == magic[$0] })
        else { throw malformed("it does not start with the artifact magic") }
        let version = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == formatVersion else {
            throw InferenceError(
                .incompatibleArtifact, "artifact format version \(version); this build reads version \(formatVersion)")
        }
        let page = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let length = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard page == pageSize, length <= UInt64(count - preambleSize) else {
            throw malformed("its header length \(length) or page size \(page) does not fit its \(count) bytes")
        }
        let json = UnsafeRawBufferPointer(start: base + preambleSize, count: Int(length))
        guard let header = try? JSONValue.parse(json), header.members != nil else {
            throw malformed("its header is not a JSON object")
        }
        return (header, align(preambleSize + Int(length), pageSize))
    }

    private static func malformed(_ why: String) -> InferenceError {
        InferenceError(.invalidModel, "the compiled artifact is not usable: \(why)")
    }

    private static func align(_ n: Int, _ to: Int) -> Int { (n + to - 1) / to * to }

    private static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + $0.count), with: $0) }
    }
}
