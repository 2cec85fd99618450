/// Ultralytics' `LetterBox` as its predictor uses it for a fixed-size export (`auto=False`,
/// `center=True`, `scaleup=True`), and `scale_boxes`, its inverse for boxes. Python's `round`
/// rounds halves to even, so this does too.
///
/// - ratio `r = min(inH / h, inW / w)`; resized size `(round(w·r), round(h·r))`;
/// - padding `dw = (inW − newW) / 2`, left `round(dw − 0.1)` (the odd pixel goes right), same
///   for top; fill gray 114;
/// - back (`scale_boxes` of Ultralytics 8.4): `x = (x' − left) / (newW / w)`, clipped to
///   `[0, w]` (y likewise with `top` and `newH / h`), so it inverts exactly the rounded resize.
package struct UltralyticsLetterbox: Sendable, Equatable {
    package let imageWidth: Int
    package let imageHeight: Int
    package let inputWidth: Int
    package let inputHeight: Int
    /// The resized image's size (`new_unpad`), at least 1×1.
    package let scaledWidth: Int
    package let scaledHeight: Int
    /// Padding columns on the left and rows on top.
    package let left: Int
    package let top: Int
    /// `scale_boxes`' gains: resized over original size, per axis.
    package let gainX: Double
    package let gainY: Double
    /// The padding value, `(114, 114, 114)`.
    package static let padValue: UInt8 = 114

    package init(imageWidth: Int, imageHeight: Int, inputWidth: Int, inputHeight: Int) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        let w = Double(imageWidth)
        let h = Double(imageHeight)
        let r = min(Double(inputHeight) / h, Double(inputWidth) / w)
        scaledWidth = max(1, Int((w * r).rounded(.toNearestOrEven)))
        scaledHeight = max(1, Int((h * r).rounded(.toNearestOrEven)))
        let dw = Double(inputWidth - scaledWidth) / 2
        let dh = Double(inputHeight - scaledHeight) / 2
        left = max(0, Int((dw - 0.1).rounded(.toNearestOrEven)))
        top = max(0, Int((dh - 0.1).rounded(.toNearestOrEven)))
        gainX = Double(scaledWidth) / w
        gainY = Double(scaledHeight) / h
    }

    /// Writes the network input for `image`: planar RGB `[3 × inputHeight × inputWidth]`, each
    /// byte / 255, the resized image (OpenCV's bilinear) centred on gray 114.
    package func fill(_ image: RGBImage, into input: UnsafeMutablePointer<Float>) {
        let resized = image.pixels.withUnsafeBufferPointer {
            OpenCVLinearResize.resize(
                $0, width: image.width, height: image.height, toWidth: scaledWidth, toHeight: scaledHeight)
        }
        let plane = inputWidth * inputHeight
        input.update(repeating: Float(Self.padValue) / 255, count: 3 * plane)
        let rows = min(scaledHeight, inputHeight - top)
        let columns = min(scaledWidth, inputWidth - left)
        resized.withUnsafeBufferPointer { src in
            for y in 0..<rows {
                let s = y * scaledWidth * 3
                let d = (top + y) * inputWidth + left
                for x in 0..<columns {
                    input[d + x] = Float(src[s + 3 * x]) / 255
                    input[plane + d + x] = Float(src[s + 3 * x + 1]) / 255
                    input[2 * plane + d + x] = Float(src[s + 3 * x + 2]) / 255
                }
            }
        }
    }

    /// A box `(x1, y1, x2, y2)` in network-input pixels mapped to the original image and clipped
    /// to it, in float32 as Ultralytics computes it on its tensors.
    package func mapBack(x1: Float, y1: Float, x2: Float, y2: Float) -> PixelBox {
        let gx = Float(gainX)
        let gy = Float(gainY)
        let px = Float(left)
        let py = Float(top)
        let w = Float(imageWidth)
        let h = Float(imageHeight)
        func clip(_ v: Float, _ upper: Float) -> Double { Double(min(max(v, 0), upper)) }
        return PixelBox(
            x1: clip((x1 - px) / gx, w), y1: clip((y1 - py) / gy, h),
            x2: clip((x2 - px) / gx, w), y2: clip((y2 - py) / gy, h))
    }
}
