/// A decoded image: 8-bit RGB, interleaved, rows top to bottom.
package struct RGBImage: Sendable, Equatable {
    package let width: Int
    package let height: Int
    /// `[height × width × 3]`.
    package let pixels: [UInt8]

    /// Fails unless `pixels` holds exactly `width × height × 3` bytes and both sides are positive.
    package init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw InferenceError(
                .invalidInput,
                "an RGB image of \(width)x\(height) needs \(max(0, width * height * 3)) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
