import Common

/// The compiled artifact of a Darknet model (`model.compiled`, docs/formats.md): the cfg and
/// every convolution's weights already in execution layout (batch-norm folded, Winograd
/// regrouped or panel packed, exactly as `DarknetWeightsReader` leaves them), page-aligned, so
/// loading is a memory map: the layers' weights are views into the mapping.
///
/// Layout: `ArtifactContainer` with `format` `darknet-yolo`, the header's `cfg` and `layers`,
/// then per convolution its weights (at a page boundary) and its bias (64-byte aligned).
package enum DarknetArtifact {
    /// The container's magic (`ArtifactContainer`).
    package static let magic = ArtifactContainer.magic
    /// The version of this layout; a reader uses only artifacts of its own version.
    package static let formatVersion = ArtifactContainer.formatVersion
    package static let pageSize = ArtifactContainer.pageSize
    package static let preambleSize = ArtifactContainer.preambleSize
    /// The header's `format`: what kind of model the artifact holds.
    package static let format = "darknet-yolo"

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
        var data = ArtifactContainer.Writer()
        for (i, layer) in layers.enumerated() where layer.weightCount > 0 {
            guard let conv = layer as? ConvolutionalLayer else {
                throw InferenceError(.invalidModel, "layer \(i) [\(layer.type)] has weights but cannot be compiled")
            }
            let w = conv.weights.array
            let weightsAt = data.add(w, pageAligned: true)
            let biasAt = data.add(conv.bias, pageAligned: false)
            entries.append([
                "index": i.json, "layout": conv.weightLayout.json, "weights": weightsAt.json,
                "weightCount": w.count.json, "bias": biasAt.json, "biasCount": conv.bias.count.json,
            ])
        }
        return ArtifactContainer.write(
            format: format, header: [("cfg", cfg.json), ("layers", .array(entries))], data: data, target: target,
            version: version)
    }

    /// Builds the network from an artifact at `base` (`count` bytes, page-aligned, already
    /// verified against the manifest), its weights views into that memory, which `owner` keeps
    /// alive (and unchanged) as long as the network lives. Throws `incompatibleArtifact` for
    /// another format version, CPU target, or kernel choice of this build (use the sources then),
    /// `invalidModel` for an artifact that is not well formed or holds another kind of model.
    package static func load(
        _ base: UnsafeRawPointer, count: Int, owner: any AnyObject & Sendable, concurrency: Int = 4,
        warmUp: Bool = true
    ) throws -> DarknetNetwork {
        let contents = try ArtifactContainer.open(base, count: count, format: format)
        let header = contents.header
        guard let cfg = header["cfg"]?.stringValue, let entries = header["layers"]?.elements else {
            throw malformed("the header lacks cfg or layers")
        }
        let config = try DarknetConfig(text: cfg)
        var layers = config.layers
        var covered = Set<Int>()
        for entry in entries {
            guard let i = entry["index"]?.intValue, let layout = entry["layout"]?.stringValue else {
                throw malformed("a layer entry lacks index, layout, weights or bias")
            }
            guard i >= 0, i < layers.count, let conv = layers[i] as? ConvolutionalLayer, covered.insert(i).inserted
            else { throw malformed("layer entry \(i) does not name a convolutional layer of its cfg once") }
            guard layout == conv.weightLayout else {
                throw InferenceError(
                    .incompatibleArtifact,
                    "layer \(i) was laid out as \(layout), this build runs it as \(conv.weightLayout)")
            }
            let (w, wn) = try contents.floats(
                at: entry["weights"]?.intValue, count: entry["weightCount"]?.intValue, alignment: 64,
                what: "layer \(i)'s weights")
            let (b, bn) = try contents.floats(
                at: entry["bias"]?.intValue, count: entry["biasCount"]?.intValue, what: "layer \(i)'s bias")
            let weights = WeightStorage(view: w, count: wn, owner: owner)
            let bias = Array(UnsafeBufferPointer(start: b, count: bn))
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

    private static func malformed(_ why: String) -> InferenceError { ArtifactContainer.malformed(why) }
}
