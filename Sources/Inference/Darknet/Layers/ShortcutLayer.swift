import InferenceKernels

/// `[shortcut]`: adds an earlier layer's output to the previous layer's, then an activation.
package struct ShortcutLayer: DarknetLayer {
    package var type: String { "shortcut" }
    package let outputShape: FeatureShape
    package let inputs: [Int]
    package let activation: Activation
    /// Folded into the convolution before it by `ResidualFusion`: that layer already added
    /// `inputs[1]`, so this one is its output unchanged.
    package private(set) var fused = false

    package var isIdentity: Bool { fused }

    /// A copy marked as folded into the previous layer (see `fused`).
    package func foldedIntoPrevious() -> ShortcutLayer {
        var copy = self
        copy.fused = true
        return copy
    }

    package init(section: inout CfgSection, context: LayerContext) throws {
        guard let references = try section.intList("from"), !references.isEmpty else {
            throw section.error("missing required key 'from'")
        }
        guard references.count == 1 else { throw section.error("a shortcut from several layers is not supported") }
        let from = try context.resolve(references[0], in: section, key: "from")
        inputs = [context.index - 1, from]
        let name = try section.string("activation", default: "linear")
        guard let act = Activation(rawValue: name) else { throw section.error("activation '\(name)' is not supported") }
        activation = act
        let weightsType = try section.string("weights_type", default: "none")
        guard weightsType == "none" else { throw section.error("weights_type=\(weightsType) is not supported") }
        outputShape = context.inputShape
        let other = context.shape(of: from)
        guard other == outputShape else {
            throw section.error("layer \(from) is \(other) but the previous layer is \(outputShape): shapes must match")
        }
    }

    package func forward(_ io: LayerIO) {
        guard !fused else { return }
        let a = io.buffer(inputs[0])
        let b = io.buffer(inputs[1])
        let out = io.output
        let chunk = 4096
        Parallel.forEach((outputShape.count + chunk - 1) / chunk, cost: chunk) { range in
            let start = range.lowerBound * chunk
            let n = min(outputShape.count, range.upperBound * chunk) - start
            Elementwise.add(a + start, b + start, into: out + start, count: n)
            if activation != .linear { BiasActivation.apply(out + start, count: n, activation: activation) }
        }
    }
}
