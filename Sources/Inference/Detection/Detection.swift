/// A box in relative coordinates of the image (0…1): centre and size, as Darknet keeps them.
package struct RelativeBox: Sendable, Equatable {
    package var x: Float
    package var y: Float
    package var width: Float
    package var height: Float

    package init(x: Float, y: Float, width: Float, height: Float) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// A box in pixels of the original image, corners, not clamped to the image (as Darknet reports).
package struct PixelBox: Sendable, Equatable {
    package var x1: Double
    package var y1: Double
    package var x2: Double
    package var y2: Double

    package init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    /// Intersection over union.
    package func iou(_ other: PixelBox) -> Double {
        let iw = min(x2, other.x2) - max(x1, other.x1)
        let ih = min(y2, other.y2) - max(y1, other.y1)
        guard iw > 0, ih > 0 else { return 0 }
        let inter = iw * ih
        let union = (x2 - x1) * (y2 - y1) + (other.x2 - other.x1) * (other.y2 - other.y1) - inter
        return union > 0 ? inter / union : 0
    }
}

/// One detection: a class with its probability (objectness × class score) and a box.
/// One YOLO box can give several detections with different classes.
package struct Detection: Sendable, Equatable {
    package var classID: Int
    package var score: Float
    package var box: PixelBox
    package var relative: RelativeBox

    package init(classID: Int, score: Float, box: PixelBox, relative: RelativeBox) {
        self.classID = classID
        self.score = score
        self.box = box
        self.relative = relative
    }
}

/// A YOLO cell/anchor kept by the decoder: its box and per-class probabilities (0 = dropped).
package struct DetectionCandidate: Sendable, Equatable {
    package var box: RelativeBox
    package var objectness: Float
    package var probabilities: [Float]

    package init(box: RelativeBox, objectness: Float, probabilities: [Float]) {
        self.box = box
        self.objectness = objectness
        self.probabilities = probabilities
    }
}
