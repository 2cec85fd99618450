import InferenceKernels

/// `[maxpool]`: Darknet's max pooling with `padding` (default `size − 1`) split as
/// `padding / 2` before and the rest after; output `(in + padding − size) / stride + 1`.
package struct MaxPoolLayer: DarknetLayer {
    package var type: String { "maxpool" }
    package let input: FeatureShape
    package let outputShape: FeatureShape
    package let inputs: [Int]
    package let size: Int
    package let stride: Int
    package let padding: Int

    package init(section: inout CfgSection, context: LayerContext) throws {
        input = context.inputShape
        inputs = [context.index - 1]
        stride = try section.int("stride", default: 1)
        size = try section.int("size", default: stride)
        padding = try section.int("padding", default: size - 1)
        for key in ["stride_x", "stride_y"] where section.has(key) {
            guard try section.int(key) == stride else {
                throw section.error("\(key) different from stride is not supported")
            }
        }
        for key in ["maxpool_depth", "antialiasing"] where section.has(key) {
            guard try section.int(key) == 0 else { throw section.error("\(key)=1 is not supported") }
        }
        guard size > 0, stride > 0, padding >= 0, size <= 1 << 10, stride <= 1 << 10, padding <= 1 << 10 else {
            throw section.error("size and stride must be positive and padding non-negative")
        }
        guard input.height + padding >= size, input.width + padding >= size else {
            throw section.error("a \(size)x\(size) window does not fit the \(input) input")
        }
        outputShape = FeatureShape(
            channels: input.channels,
            height: (input.height + padding - size) / stride + 1,
            width: (input.width + padding - size) / stride + 1)
    }

    package var workspaceSize: Int { Pooling.maxPoolWorkspace(height: input.height, outWidth: outputShape.width) }

    package func forward(_ io: LayerIO) {
        Pooling.maxPool(
            input: io.buffer(inputs[0]), channels: input.channels, height: input.height, width: input.width,
            size: size, stride: stride, padding: padding,
            output: io.output, outHeight: outputShape.height, outWidth: outputShape.width, workspace: io.workspace)
    }
}
