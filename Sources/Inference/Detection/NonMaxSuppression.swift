#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Darknet's per-class greedy non-maximum suppression (`do_nms_sort`, `diounms_sort`).
package enum NonMaxSuppression {
    /// For each class: candidates sorted by that class's probability (descending, ties in input
    /// order); each kept one zeroes the class probability of every later candidate whose
    /// overlap with it exceeds `threshold`. Overlap is IoU (`default`), `IoU − (d²/c²)^0.6`
    /// (`greedynms`) or `IoU − (d²/c²)^beta` (`diounms`), in relative coordinates.
    package static func apply(
        _ candidates: inout [DetectionCandidate], threshold: Float, kind: NMSKind, beta: Float = 0.6
    ) {
        guard let classes = candidates.first?.probabilities.count, candidates.count > 1 else { return }
        var order: [Int] = []
        order.reserveCapacity(candidates.count)
        for k in 0..<classes {
            // Only candidates still holding this class can suppress or be suppressed.
            order.removeAll(keepingCapacity: true)
            for i in candidates.indices where candidates[i].probabilities[k] != 0 { order.append(i) }
            guard order.count > 1 else { continue }
            order.sort { a, b in
                let pa = candidates[a].probabilities[k]
                let pb = candidates[b].probabilities[k]
                return pa != pb ? pa > pb : a < b
            }
            for (position, i) in order.enumerated() where candidates[i].probabilities[k] != 0 {
                let a = candidates[i].box
                for j in order[(position + 1)...] where candidates[j].probabilities[k] != 0 {
                    if overlap(a, candidates[j].box, kind: kind, beta: beta) > threshold {
                        candidates[j].probabilities[k] = 0
                    }
                }
            }
        }
    }

    /// Darknet `box_iou` on centre/size boxes.
    package static func iou(_ a: RelativeBox, _ b: RelativeBox) -> Float {
        let w = overlap1D(a.x, a.width, b.x, b.width)
        let h = overlap1D(a.y, a.height, b.y, b.height)
        if w < 0 || h < 0 { return 0 }
        let inter = w * h
        let union = a.width * a.height + b.width * b.height - inter
        if inter == 0 || union == 0 { return 0 }
        return inter / union
    }

    /// Darknet `box_diou` (`exponent` 0.6) / `box_diounms` (`exponent` beta).
    package static func diou(_ a: RelativeBox, _ b: RelativeBox, exponent: Float) -> Float {
        let top = min(a.y - a.height / 2, b.y - b.height / 2)
        let bottom = max(a.y + a.height / 2, b.y + b.height / 2)
        let left = min(a.x - a.width / 2, b.x - b.width / 2)
        let right = max(a.x + a.width / 2, b.x + b.width / 2)
        let w = right - left
        let h = bottom - top
        let c = w * w + h * h
        let iou = iou(a, b)
        if c == 0 { return iou }
        let d = (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)
        return iou - Float(pow(Double(d / c), Double(exponent)))
    }

    @inline(__always)
    static func overlap(_ a: RelativeBox, _ b: RelativeBox, kind: NMSKind, beta: Float) -> Float {
        switch kind {
        case .default: return iou(a, b)
        case .greedynms: return diou(a, b, exponent: 0.6)
        case .diounms: return diou(a, b, exponent: beta)
        }
    }

    private static func overlap1D(_ x1: Float, _ w1: Float, _ x2: Float, _ w2: Float) -> Float {
        let left = max(x1 - w1 / 2, x2 - w2 / 2)
        let right = min(x1 + w1 / 2, x2 + w2 / 2)
        return right - left
    }
}
