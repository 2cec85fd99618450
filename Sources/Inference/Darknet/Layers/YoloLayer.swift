/// `[yolo]`: a detection head. At inference it passes the previous convolution's raw map
/// through unchanged; `YoloDecoder` turns that map into boxes.
package struct YoloLayer: DarknetLayer {
    package var type: String { "yolo" }
    package let outputShape: FeatureShape
    package let inputs: [Int]
    package let classes: Int
    /// `(width, height)` in network-input pixels of each anchor this head predicts (`mask` order).
    package let anchors: [(width: Float, height: Float)]
    package let scaleXY: Float
    package let nmsKind: NMSKind
    /// The exponent of `diounms` (`beta_nms`); `greedynms` always uses 0.6, like Darknet.
    package let betaNMS: Float

    package init(section: inout CfgSection, context: LayerContext) throws {
        outputShape = context.inputShape
        inputs = [context.index - 1]
        classes = try section.int("classes", default: 20)
        let total = try section.int("num", default: 1)
        let mask = try section.intList("mask") ?? Array(0..<total)
        let values = try section.floatList("anchors") ?? []
        scaleXY = try section.float("scale_x_y", default: 1)
        let kind = try section.string("nms_kind", default: "default")
        guard let nms = NMSKind(rawValue: kind) else {
            throw section.error("nms_kind=\(kind) is not supported (default, greedynms, diounms)")
        }
        nmsKind = nms
        betaNMS = try section.float("beta_nms", default: 0.6)
        if section.has("new_coords") {
            guard try section.int("new_coords") == 0 else { throw section.error("new_coords=1 is not supported") }
        }
        guard classes > 0, total > 0, !mask.isEmpty else {
            throw section.error("classes, num and mask must be positive / non-empty")
        }
        guard values.count >= 2 * total else {
            throw section.error("anchors has \(values.count) numbers, num=\(total) needs \(2 * total)")
        }
        var anchors: [(width: Float, height: Float)] = []
        for m in mask {
            guard m >= 0, m < total else { throw section.error("mask value \(m) is not below num=\(total)") }
            anchors.append((values[2 * m], values[2 * m + 1]))
        }
        self.anchors = anchors
        let expected = mask.count * (classes + 5)
        guard outputShape.channels == expected else {
            throw section.error(
                "the previous layer has \(outputShape.channels) channels but \(mask.count) anchors x (classes=\(classes) + 5) needs \(expected): set filters=\(expected) in the [convolutional] before it"
            )
        }
    }

    package var isIdentity: Bool { true }
    package func forward(_ io: LayerIO) {}
}

/// How detections of one class suppress each other (`[yolo] nms_kind`).
package enum NMSKind: String, Sendable {
    /// Greedy, plain IoU.
    case `default`
    /// Greedy with DIoU: `IoU − (d² / c²)^0.6`.
    case greedynms
    /// Greedy with DIoU and the cfg's `beta_nms` as exponent.
    case diounms
}
