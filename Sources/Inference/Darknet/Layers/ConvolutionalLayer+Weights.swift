import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loading weights: batch-norm folding and packing for the chosen kernel, and reading them back.
extension ConvolutionalLayer {
    package func loadingWeights(_ floats: [Float]) throws -> any DarknetLayer {
        guard floats.count == weightCount else {
            throw InferenceError(
                .invalidWeights, "convolutional layer expects \(weightCount) floats, got \(floats.count)")
        }
        var copy = self
        let n = filters
        let perFilter = (input.channels / groups) * size * size
        var bias = Array(floats[0..<n])
        let offset = batchNormalize ? 4 * n : n
        var weights = Array(floats[offset..<(offset + n * perFilter)])
        if batchNormalize {
            for f in 0..<n {
                // floats: biases[n], scales[n], rolling_mean[n], rolling_variance[n], weights.
                let scale = Double(floats[n + f])
                let root = sqrt(Double(floats[3 * n + f]) + 0.00001)
                bias[f] = Float(Double(bias[f]) - scale * Double(floats[2 * n + f]) / root)
                let factor = scale / root
                for i in (f * perFilter)..<((f + 1) * perFilter) {
                    weights[i] = Float(Double(weights[i]) * factor)
                }
            }
        }
        copy.weights = WeightStorage(
            weights.withUnsafeBufferPointer {
                if winograd != nil {
                    return WinogradConvolution.packWeights($0.baseAddress!, filters: filters, channels: input.channels)
                }
                if strided {
                    return StridedConvolution.packWeights($0.baseAddress!, filters: filters, channels: input.channels)
                }
                return panel ? PanelGemm.packA($0.baseAddress!, m: filters, k: perFilter) : weights
            })
        copy.bias = bias
        return copy
    }

    /// A copy with weights already in execution layout (batch-norm folded and packed, as
    /// `loadingWeights` leaves them), e.g. a view into a mapped compiled artifact.
    package func loadingCompiled(weights: WeightStorage, bias: [Float]) throws -> ConvolutionalLayer {
        guard weights.count == executionWeightCount, bias.count == filters else {
            throw InferenceError(
                .invalidModel,
                "convolutional layer expects \(executionWeightCount) packed weights and \(filters) biases, got \(weights.count) and \(bias.count)"
            )
        }
        var copy = self
        copy.weights = weights
        copy.bias = bias
        return copy
    }

    /// The folded weights in Darknet's order `[filters × (channels / groups) × size × size]`.
    package var unpackedWeights: [Float] {
        guard winograd != nil || panel || strided, !weights.isEmpty else { return weights.array }
        return weights.withUnsafeBufferPointer {
            if winograd != nil {
                return WinogradConvolution.unpackWeights($0.baseAddress!, filters: filters, channels: input.channels)
            }
            if strided {
                return StridedConvolution.unpackWeights($0.baseAddress!, filters: filters, channels: input.channels)
            }
            return PanelGemm.unpackA($0.baseAddress!, m: filters, k: (input.channels / groups) * size * size)
        }
    }
}
