import Foundation
import Testing

@testable import Inference

@Suite("YOLO decode and NMS")
struct NonMaxSuppressionTests {
    static func randomCandidates(_ n: Int, classes: Int, seed: UInt64) -> [DetectionCandidate] {
        var rng = DetTestRandom(seed: seed)
        return (0..<n).map { _ in
            let box = RelativeBox(
                x: .random(in: 0.3...0.7, using: &rng), y: .random(in: 0.3...0.7, using: &rng),
                width: .random(in: 0.05...0.4, using: &rng), height: .random(in: 0.05...0.4, using: &rng))
            let probabilities = (0..<classes).map { _ -> Float in
                let p = Float.random(in: 0...1, using: &rng)
                return p > 0.5 ? p : 0
            }
            return DetectionCandidate(box: box, objectness: 0.9, probabilities: probabilities)
        }
    }

    @Test(arguments: [NMSKind.default, .greedynms, .diounms])
    func isIdempotent(_ kind: NMSKind) {
        var once = Self.randomCandidates(60, classes: 3, seed: 1)
        NonMaxSuppression.apply(&once, threshold: 0.45, kind: kind, beta: 0.8)
        var twice = once
        NonMaxSuppression.apply(&twice, threshold: 0.45, kind: kind, beta: 0.8)
        #expect(once == twice)
        #expect(once.contains { $0.probabilities.contains { $0 > 0 } })
    }

    @Test(arguments: [NMSKind.default, .greedynms])
    func keptBoxesDoNotOverlapPastThreshold(_ kind: NMSKind) {
        var c = Self.randomCandidates(80, classes: 2, seed: 2)
        let before = c
        NonMaxSuppression.apply(&c, threshold: 0.3, kind: kind)
        for k in 0..<2 {
            let kept = c.indices.filter { c[$0].probabilities[k] > 0 }
            for a in kept {
                for b in kept where a < b {
                    #expect(referenceOverlap(c[a].box, c[b].box, kind: kind, beta: 0.6) <= 0.3 + 1e-6)
                }
            }
            // The best box of each class always survives.
            if let best = before.indices.max(by: { before[$0].probabilities[k] < before[$1].probabilities[k] }),
                before[best].probabilities[k] > 0
            {
                #expect(c[best].probabilities[k] == before[best].probabilities[k])
            }
        }
    }

    @Test(arguments: [NMSKind.default, .greedynms, .diounms])
    func matchesTheNaiveReference(_ kind: NMSKind) {
        for seed in UInt64(10)..<UInt64(16) {
            let candidates = Self.randomCandidates(70, classes: 3, seed: seed)
            var got = candidates
            NonMaxSuppression.apply(&got, threshold: 0.45, kind: kind, beta: 0.8)
            let want = referenceNMS(candidates, threshold: 0.45, kind: kind, beta: 0.8)
            #expect(got == want, "seed \(seed)")
            #expect(got != candidates, "seed \(seed): nothing was suppressed")
        }
    }

    @Test func iouAndDIoUMatchTheReference() {
        var rng = DetTestRandom(seed: 7)
        for _ in 0..<500 {
            let boxes = (0..<2).map { _ in
                RelativeBox(
                    x: .random(in: 0...1, using: &rng), y: .random(in: 0...1, using: &rng),
                    width: .random(in: 0.01...0.6, using: &rng), height: .random(in: 0.01...0.6, using: &rng))
            }
            let (a, b) = (boxes[0], boxes[1])
            #expect(abs(Double(NonMaxSuppression.iou(a, b)) - referenceIoU(a, b)) < 1e-5)
            #expect(
                abs(Double(NonMaxSuppression.diou(a, b, exponent: 0.6)) - referenceDIoU(a, b, exponent: 0.6)) < 1e-5)
        }
    }

    @Test func diouSuppressesLessThanIoUForDistantCentres() {
        // Same size, shifted: IoU 0.48 but the centre-distance penalty brings DIoU under 0.45.
        let a = RelativeBox(x: 0.5, y: 0.5, width: 0.2, height: 0.2)
        let b = RelativeBox(x: 0.57, y: 0.5, width: 0.2, height: 0.2)
        let iou = 0.026 / 0.054  // intersection 0.13 × 0.2, union 2 × 0.04 − 0.026
        #expect(abs(Double(NonMaxSuppression.iou(a, b)) - iou) < 1e-5)
        let d = 0.07 * 0.07
        let c = 0.27 * 0.27 + 0.2 * 0.2
        #expect(abs(Double(NonMaxSuppression.diou(a, b, exponent: 0.6)) - (iou - pow(d / c, 0.6))) < 1e-5)
        var candidates = [a, b].map { DetectionCandidate(box: $0, objectness: 1, probabilities: [0.9]) }
        candidates[1].probabilities = [0.8]
        var withIoU = candidates
        NonMaxSuppression.apply(&withIoU, threshold: 0.45, kind: .default)
        #expect(withIoU[1].probabilities == [0])
        NonMaxSuppression.apply(&candidates, threshold: 0.45, kind: .greedynms)
        #expect(candidates[1].probabilities == [0.8])
    }

    @Test func decodeFollowsDarknetFormulas() throws {
        let shape = FeatureShape(channels: 7, height: 2, width: 3)  // 1 anchor x (5 + 2 classes)
        let cfg = "[yolo]\nmask=1\nanchors=10,14,23,27\nnum=2\nclasses=2\nscale_x_y=1.1\n"
        let head = try #require(try makeLayers(input: shape, cfg)[0] as? YoloLayer)
        var map = [Float](repeating: -10, count: shape.count)
        let cell = 1 * 3 + 2  // j = 1, i = 2
        let t: [Float] = [0.3, -0.2, 0.5, -0.4, 2.0, 1.0, -3.0]
        for (e, v) in t.enumerated() { map[e * 6 + cell] = v }
        var out: [DetectionCandidate] = []
        map.withUnsafeBufferPointer {
            YoloDecoder.decode(
                $0.baseAddress!, layer: head, network: FeatureShape(channels: 3, height: 64, width: 96),
                threshold: 0.25, into: &out)
        }
        try #require(out.count == 1)
        let sig = { (x: Float) in 1 / (1 + expf(-x)) }
        let box = out[0].box
        #expect(abs(box.x - (2 + sig(0.3) * 1.1 - 0.05) / 3) < 1e-6)
        #expect(abs(box.y - (1 + sig(-0.2) * 1.1 - 0.05) / 2) < 1e-6)
        #expect(abs(box.width - expf(0.5) * 23 / 96) < 1e-6)
        #expect(abs(box.height - expf(-0.4) * 27 / 64) < 1e-6)
        #expect(abs(out[0].probabilities[0] - sig(2) * sig(1)) < 1e-6)
        #expect(out[0].probabilities[1] == 0)  // sig(2)·sig(-3) = 0.042 is below the threshold
    }
}
