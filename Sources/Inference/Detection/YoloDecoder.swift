#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Darknet's YOLO decode (`get_yolo_detections`, `correct_yolo_boxes`).
package enum YoloDecoder {
    /// Appends every cell/anchor of a `[yolo]` head's raw map `[anchors·(5 + classes) × h × w]`
    /// whose objectness `σ(t_o)` exceeds `threshold`: box `x = (i + σ(t_x)·s − (s − 1)/2) / w`,
    /// `y` likewise, `w = e^{t_w} · anchor_w / networkWidth`, `h` likewise (relative to the
    /// network input); class probability `σ(t_o) · σ(t_c)`, zeroed unless above `threshold`.
    package static func decode(
        _ map: UnsafePointer<Float>, layer: YoloLayer, network: FeatureShape, threshold: Float,
        into candidates: inout [DetectionCandidate]
    ) {
        let shape = layer.outputShape
        let lw = shape.width
        let lh = shape.height
        let spatial = shape.spatial
        let entries = 5 + layer.classes
        let s = layer.scaleXY
        let shift = -0.5 * (s - 1)
        for (a, anchor) in layer.anchors.enumerated() {
            let base = map + a * entries * spatial
            for cell in 0..<spatial {
                let objectness = logistic(base[4 * spatial + cell])
                guard objectness > threshold else { continue }
                let i = cell % lw
                let j = cell / lw
                let tx = logistic(base[cell]) * s + shift
                let ty = logistic(base[spatial + cell]) * s + shift
                let box = RelativeBox(
                    x: (Float(i) + tx) / Float(lw),
                    y: (Float(j) + ty) / Float(lh),
                    width: Float(exp(Double(base[2 * spatial + cell]))) * anchor.width / Float(network.width),
                    height: Float(exp(Double(base[3 * spatial + cell]))) * anchor.height / Float(network.height))
                var probabilities = [Float](repeating: 0, count: layer.classes)
                for k in 0..<layer.classes {
                    let p = objectness * logistic(base[(5 + k) * spatial + cell])
                    probabilities[k] = p > threshold ? p : 0
                }
                candidates.append(DetectionCandidate(box: box, objectness: objectness, probabilities: probabilities))
            }
        }
    }

    /// Maps boxes from network-input coordinates to image coordinates (both relative): the
    /// identity for a stretched input, undoes the padding of a letterboxed one.
    package static func correctBoxes(
        _ candidates: inout [DetectionCandidate], imageWidth: Int, imageHeight: Int,
        network: FeatureShape, letterbox: Bool
    ) {
        guard letterbox else { return }
        let (newW, newH) = Letterbox.scaledSize(
            imageWidth: imageWidth, imageHeight: imageHeight, networkWidth: network.width, networkHeight: network.height
        )
        let netW = Float(network.width)
        let netH = Float(network.height)
        let deltaW = netW - Float(newW)
        let deltaH = netH - Float(newH)
        let ratioW = Float(newW) / netW
        let ratioH = Float(newH) / netH
        for i in candidates.indices {
            var b = candidates[i].box
            b.x = (b.x - deltaW / 2 / netW) / ratioW
            b.y = (b.y - deltaH / 2 / netH) / ratioH
            b.width *= 1 / ratioW
            b.height *= 1 / ratioH
            candidates[i].box = b
        }
    }

    /// Darknet's `logistic_activate`.
    @inline(__always)
    package static func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}

/// Darknet's `letterbox_image` geometry.
package enum Letterbox {
    /// The size the image is resized to before being centred on a 0.5-grey network input.
    package static func scaledSize(imageWidth: Int, imageHeight: Int, networkWidth: Int, networkHeight: Int) -> (
        Int, Int
    ) {
        if Float(networkWidth) / Float(imageWidth) < Float(networkHeight) / Float(imageHeight) {
            return (networkWidth, max(1, imageHeight * networkWidth / imageWidth))
        }
        return (max(1, imageWidth * networkHeight / imageHeight), networkHeight)
    }
}
