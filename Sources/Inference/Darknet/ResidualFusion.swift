/// Folds a `[shortcut]` with a linear activation into the convolution just before it, when
/// that convolution stores its own output (Winograd, panels) and nothing else reads that output:
/// the convolution adds the shortcut's other input as it stores, and the shortcut becomes an
/// identity layer sharing its buffer. One pass over the map less per residual block (ONNX
/// Runtime fuses Conv + Add the same way); the memory plan sees the convolution read both inputs.
package enum ResidualFusion {
    package static func fuse(_ layers: [any DarknetLayer]) -> [any DarknetLayer] {
        var fused = layers
        var readers = [Int](repeating: 0, count: layers.count)
        for layer in layers {
            for i in layer.inputs where i >= 0 { readers[i] += 1 }
        }
        // A shortcut reads the layer before it (`inputs[0]`) and `from`; one reader of the
        // convolution's output means nothing but the shortcut does (nor is `from` that layer).
        for i in layers.indices.dropFirst() {
            guard let shortcut = layers[i] as? ShortcutLayer, shortcut.activation == .linear,
                let conv = fused[i - 1] as? ConvolutionalLayer, conv.addsResidual, readers[i - 1] == 1
            else { continue }
            fused[i - 1] = conv.addingResidual(shortcut.inputs[1])
            fused[i] = shortcut.foldedIntoPrevious()
        }
        return fused
    }
}
