extension ONNXNetwork {
    /// Floating-point operations of one forward's convolutions (2 per multiply-add), the figure
    /// `mscr bench detect --onnx` divides by the forward time.
    package var convolutionFlops: Int {
        var total = 0
        for case .conv(let c) in steps { total += c.layer.flops }
        return total
    }
}
