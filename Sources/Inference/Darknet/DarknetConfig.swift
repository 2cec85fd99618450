/// A parsed Darknet cfg: the `[net]` input and every layer with its shapes, weights not yet
/// loaded. Unknown keys do not fail; they are collected in `warnings` (one per section type and key).
package struct DarknetConfig: Sendable {
    /// The network input, `channels × height × width`.
    package let input: FeatureShape
    /// `[net] letter_box=1`: keep the aspect ratio and pad with 0.5 instead of stretching.
    package let letterbox: Bool
    package let layers: [any DarknetLayer]
    /// Human-readable notes about keys we ignored.
    package let warnings: [String]

    /// Floats the `.weights` file must hold after its header.
    package var weightCount: Int { layers.reduce(0) { $0 + $1.weightCount } }
    /// FLOPs of one forward pass (2 × multiply-adds of the convolutions).
    package var flops: Int { layers.reduce(0) { $0 + $1.flops } }
    /// Indices of the `[yolo]` layers.
    package var yoloLayers: [Int] { layers.indices.filter { layers[$0] is YoloLayer } }

    /// Largest output of one layer we accept (4 GiB of floats): a guard against absurd cfgs.
    package static let maxLayerFloats = 1 << 30

    /// Parses cfg text. `width`/`height` override `[net]`'s (Darknet's `-width`/`-height`).
    package init(text: String, width: Int? = nil, height: Int? = nil) throws {
        var sections = try CfgReader.sections(from: text)
        guard var net = sections.first, LayerRegistry.networkSections.contains(net.type) else {
            throw InferenceError(.invalidConfig, "cfg must start with a [net] section")
        }
        sections.removeFirst()
        let w = try width ?? net.int("width")
        let h = try height ?? net.int("height")
        let c = try net.int("channels", default: 3)
        _ = try? net.int("width")
        _ = try? net.int("height")
        letterbox = try net.int("letter_box", default: 0) != 0
        guard w > 0, h > 0, c > 0, w <= 1 << 16, h <= 1 << 16, c <= 1 << 16 else {
            throw net.error("width, height and channels must be positive and at most 65536")
        }
        input = FeatureShape(channels: c, height: h, width: w)

        var warnings: [String] = []
        var warned: Set<String> = []
        func collectWarnings(_ section: CfgSection, training: Set<String>) {
            for option in section.unusedOptions where !training.contains(option.key) {
                if warned.insert(section.type + "." + option.key).inserted {
                    warnings.append("cfg line \(option.line) [\(section.type)]: unknown key '\(option.key)' ignored")
                }
            }
        }
        collectWarnings(net, training: LayerRegistry.networkTrainingKeys)

        var layers: [any DarknetLayer] = []
        var shapes: [FeatureShape] = []
        for var section in sections {
            guard let entry = LayerRegistry.entries[section.type] else {
                throw InferenceError(
                    .invalidConfig,
                    "cfg line \(section.line): unknown section [\(section.type)] (supported: \(LayerRegistry.entries.keys.sorted().joined(separator: ", ")))"
                )
            }
            let context = LayerContext(index: layers.count, shapes: shapes, networkInput: input)
            let layer = try entry.parse(&section, context)
            collectWarnings(section, training: entry.trainingKeys)
            guard layer.outputShape.count <= Self.maxLayerFloats, layer.outputShape.count > 0 else {
                throw section.error("output \(layer.outputShape) is empty or larger than \(Self.maxLayerFloats) floats")
            }
            layers.append(layer)
            shapes.append(layer.outputShape)
        }
        guard !layers.isEmpty else { throw InferenceError(.invalidConfig, "cfg has no layers") }
        self.layers = layers
        self.warnings = warnings
    }
}
