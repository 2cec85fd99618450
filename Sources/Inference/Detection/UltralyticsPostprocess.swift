/// Ultralytics' detection post-processing (`non_max_suppression` with its predict defaults:
/// best class only, not class-agnostic) for an export whose output is `[1, 4 + classes, anchors]`:
/// rows 0-3 the box centre and size in network-input pixels, then one already-sigmoid score per
/// class.
package enum UltralyticsPostprocess {
    /// Ultralytics' `max_wh`: each class's boxes are shifted by `class × 7680` so one NMS over
    /// all boxes never lets two classes suppress each other.
    package static let classOffset: Float = 7680
    /// Ultralytics' `max_nms`: at most this many candidates (the best) go into NMS.
    package static let maxNMS = 30_000

    /// A box kept by the decoder: corners in network-input pixels, its best class and score.
    package struct Candidate: Sendable, Equatable {
        package var x1: Float
        package var y1: Float
        package var x2: Float
        package var y2: Float
        package var score: Float
        package var classID: Int

        package init(x1: Float, y1: Float, x2: Float, y2: Float, score: Float, classID: Int) {
            self.x1 = x1
            self.y1 = y1
            self.x2 = x2
            self.y2 = y2
            self.score = score
            self.classID = classID
        }
    }

    /// Every anchor whose best class score exceeds `threshold`, in anchor order, as corners
    /// `(cx ∓ w/2, cy ∓ h/2)`. `output` is `[(4 + classes) × anchors]`; the first of equal
    /// scores is the best class.
    package static func candidates(
        _ output: UnsafeBufferPointer<Float>, classes: Int, anchors: Int, threshold: Float
    ) -> [Candidate] {
        guard classes > 0, anchors > 0, output.count >= (4 + classes) * anchors else { return [] }
        var best = [Float](repeating: -.infinity, count: anchors)
        var bestClass = [Int](repeating: 0, count: anchors)
        for k in 0..<classes {
            let row = (4 + k) * anchors
            for n in 0..<anchors where output[row + n] > best[n] {
                best[n] = output[row + n]
                bestClass[n] = k
            }
        }
        var out: [Candidate] = []
        for n in 0..<anchors where best[n] > threshold {
            let cx = output[n]
            let cy = output[anchors + n]
            let hw = output[2 * anchors + n] / 2
            let hh = output[3 * anchors + n] / 2
            out.append(
                Candidate(x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh, score: best[n], classID: bestClass[n]))
        }
        return out
    }

    /// Class-wise greedy NMS as Ultralytics runs it: at most `maxNMS` best candidates, boxes
    /// offset by `class × classOffset`, then `torchvision.ops.nms` (stable sort by score,
    /// descending; drop a box whose IoU with a kept one exceeds `iou`), at most `maxDetections`
    /// kept, best first.
    package static func nonMaxSuppression(_ candidates: [Candidate], iou: Float, maxDetections: Int) -> [Candidate] {
        var order = Array(candidates.indices)
        order.sort { a, b in
            candidates[a].score != candidates[b].score ? candidates[a].score > candidates[b].score : a < b
        }
        if order.count > maxNMS { order.removeSubrange(maxNMS...) }
        let boxes = order.map { i -> (Float, Float, Float, Float, Float) in
            let c = candidates[i]
            let offset = Float(c.classID) * classOffset
            let (x1, y1, x2, y2) = (c.x1 + offset, c.y1 + offset, c.x2 + offset, c.y2 + offset)
            return (x1, y1, x2, y2, (x2 - x1) * (y2 - y1))
        }
        var suppressed = [Bool](repeating: false, count: boxes.count)
        var kept: [Candidate] = []
        for i in boxes.indices where !suppressed[i] {
            kept.append(candidates[order[i]])
            if kept.count >= maxDetections { break }
            let a = boxes[i]
            for j in (i + 1)..<boxes.count where !suppressed[j] {
                let b = boxes[j]
                let w = max(0, min(a.2, b.2) - max(a.0, b.0))
                let h = max(0, min(a.3, b.3) - max(a.1, b.1))
                let inter = w * h
                if inter / (a.4 + b.4 - inter) > iou { suppressed[j] = true }
            }
        }
        return kept
    }

    /// Decode, NMS and the boxes mapped back through `letterbox` to the original image.
    package static func detections(
        _ output: UnsafeBufferPointer<Float>, classes: Int, anchors: Int, letterbox: UltralyticsLetterbox,
        threshold: Float, iou: Float, maxDetections: Int
    ) -> [Detection] {
        let kept = nonMaxSuppression(
            candidates(output, classes: classes, anchors: anchors, threshold: threshold), iou: iou,
            maxDetections: maxDetections)
        let w = Double(letterbox.imageWidth)
        let h = Double(letterbox.imageHeight)
        return kept.map { c in
            let box = letterbox.mapBack(x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2)
            let relative = RelativeBox(
                x: Float((box.x1 + box.x2) / 2 / w), y: Float((box.y1 + box.y2) / 2 / h),
                width: Float((box.x2 - box.x1) / w), height: Float((box.y2 - box.y1) / h))
            return Detection(classID: c.classID, score: c.score, box: box, relative: relative)
        }
    }
}
