import Foundation

@testable import Inference
@testable import InferenceKernels

// Reference definitions written out in the tests, in Double, from Darknet's sources: the
// references never call the engine code they check (`Activation.apply`, `NonMaxSuppression`).
// Only the enums are shared, as names.

/// Darknet `activations.h`: leaky slope 0.1; mish = x·tanh(softplus(x)) with softplus's
/// threshold 20 (`softplus_activate`); swish = x·logistic(x).
func referenceActivation(_ activation: Activation, _ x: Double) -> Double {
    switch activation {
    case .linear: return x
    case .leaky: return x > 0 ? x : 0.1 * x
    case .relu: return max(0, x)
    case .logistic: return 1 / (1 + exp(-x))
    case .mish:
        let softplus = x > 20 ? x : (x < -20 ? exp(x) : log1p(exp(x)))
        return x * tanh(softplus)
    case .swish: return x / (1 + exp(-x))
    }
}

/// A box's corners from its centre and size.
private func corners(_ b: RelativeBox) -> (left: Double, top: Double, right: Double, bottom: Double) {
    let x = Double(b.x)
    let y = Double(b.y)
    let w = Double(b.width)
    let h = Double(b.height)
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
}

/// Intersection over union by corners (Darknet `box_iou`: 0 when the boxes do not overlap).
func referenceIoU(_ a: RelativeBox, _ b: RelativeBox) -> Double {
    let p = corners(a)
    let q = corners(b)
    let w = min(p.right, q.right) - max(p.left, q.left)
    let h = min(p.bottom, q.bottom) - max(p.top, q.top)
    guard w > 0, h > 0 else { return 0 }
    let inter = w * h
    let union = Double(a.width) * Double(a.height) + Double(b.width) * Double(b.height) - inter
    return union > 0 ? inter / union : 0
}

/// Darknet `box_diou`: IoU − (d²/c²)^exponent, d the distance between the centres and c the
/// diagonal of the smallest box enclosing both.
func referenceDIoU(_ a: RelativeBox, _ b: RelativeBox, exponent: Double) -> Double {
    let p = corners(a)
    let q = corners(b)
    let cw = max(p.right, q.right) - min(p.left, q.left)
    let ch = max(p.bottom, q.bottom) - min(p.top, q.top)
    let c = cw * cw + ch * ch
    let iou = referenceIoU(a, b)
    guard c > 0 else { return iou }
    let dx = Double(a.x) - Double(b.x)
    let dy = Double(a.y) - Double(b.y)
    return iou - pow((dx * dx + dy * dy) / c, exponent)
}

/// The overlap each NMS kind compares with its threshold.
func referenceOverlap(_ a: RelativeBox, _ b: RelativeBox, kind: NMSKind, beta: Double) -> Double {
    switch kind {
    case .default: return referenceIoU(a, b)
    case .greedynms: return referenceDIoU(a, b, exponent: 0.6)
    case .diounms: return referenceDIoU(a, b, exponent: beta)
    }
}

/// Darknet `do_nms_sort` literally: for each class, sort every candidate by that class's
/// probability (descending, stable), and let each one still holding the class zero it in every
/// later one it overlaps past the threshold.
func referenceNMS(_ input: [DetectionCandidate], threshold: Double, kind: NMSKind, beta: Double = 0.6)
    -> [DetectionCandidate]
{
    var out = input
    guard let classes = input.first?.probabilities.count else { return out }
    for k in 0..<classes {
        let order = out.indices.sorted { a, b in
            out[a].probabilities[k] > out[b].probabilities[k]
                || (out[a].probabilities[k] == out[b].probabilities[k] && a < b)
        }
        for (n, i) in order.enumerated() {
            if out[i].probabilities[k] == 0 { continue }
            for j in order[(n + 1)...]
            where referenceOverlap(out[i].box, out[j].box, kind: kind, beta: beta) > threshold {
                out[j].probabilities[k] = 0
            }
        }
    }
    return out
}
