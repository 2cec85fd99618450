extension ONNXNetwork {
    /// Floating-point operations of one forward's convolutions (2 per multiply-add), the figure
    /// `mscr bench detect --onnx` divides by the forward time.
    package var convolutionFlops: Int {
        var total = 0
        for case .conv(let c) in steps { total += c.layer.flops }
        return total
    }

    /// Bytes of the convolutions' weights, the constants and one call's scratch set (buffers
    /// that are views of others take none), for the memory budget; each call running at once
    /// adds a scratch set.
    package var memoryBytes: Int {
        let viewed = Set(views.map(\.buffer))
        var floats = workspaceFloats
        for case .conv(let c) in steps { floats += c.layer.weightCount }
        for (b, size) in bufferSizes.enumerated() where !viewed.contains(b) { floats += size }
        return 4 * floats
    }
}
