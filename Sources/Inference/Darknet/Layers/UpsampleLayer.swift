import InferenceKernels

/// `[upsample]`: nearest-neighbour upsampling by `stride`, times `scale`.
package struct UpsampleLayer: DarknetLayer {
    package var type: String { "upsample" }
    package let input: FeatureShape
    package let outputShape: FeatureShape
    package let inputs: [Int]
    package let stride: Int
    package let scale: Float

    package init(section: inout CfgSection, context: LayerContext) throws {
        input = context.inputShape
        inputs = [context.index - 1]
        stride = try section.int("stride", default: 2)
        scale = try section.float("scale", default: 1)
        guard stride > 0, stride <= 1 << 10 else {
            throw section.error("stride must be positive (downsampling is not supported)")
        }
        outputShape = FeatureShape(channels: input.channels, height: input.height * stride, width: input.width * stride)
    }

    package func forward(_ io: LayerIO) {
        Pooling.upsampleNearest(
            input: io.buffer(inputs[0]), channels: input.channels, height: input.height, width: input.width,
            stride: stride, scale: scale, output: io.output)
    }
}
