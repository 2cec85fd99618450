extension ONNXNetwork {
    /// Floating-point operations of one forward's convolutions (2 per multiply-add), the figure
    /// `mscr bench detect --onnx` divides by the forward time.
    package var convolutionFlops: Int {
        var total = 0
        for case .conv(let c) in steps { total += c.layer.flops }
        return total
    }

    /// Bytes of the convolutions' weights, the constants and one call's arena (its buffers as
    /// the plan lays them out, and the workspace), for the memory budget; each call running at
    /// once adds an arena.
    package var memoryBytes: Int {
        var floats = plan.totalFloats + workspaceFloats
        for case .conv(let c) in steps { floats += c.layer.weightCount }
        for (b, size) in bufferSizes.enumerated() where constants.buffers[b] != nil { floats += size }
        return 4 * floats
    }

    /// Floats of one call's arena for the buffers (without the workspace).
    package var arenaFloats: Int { plan.totalFloats }
}
