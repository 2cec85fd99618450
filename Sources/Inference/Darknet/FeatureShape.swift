/// The shape of one feature map, `channels × height × width`, stored planar (NCHW, batch 1).
package struct FeatureShape: Equatable, Hashable, Sendable, CustomStringConvertible {
    package var channels: Int
    package var height: Int
    package var width: Int

    package init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Floats in the map.
    package var count: Int { channels * height * width }
    /// Floats in one channel plane.
    package var spatial: Int { height * width }

    package var description: String { "\(channels)x\(height)x\(width)" }
}
