import Testing

@testable import Inference

@Suite("Ultralytics decode and class-wise NMS")
struct UltralyticsPostprocessTests {
    /// A random `[(4 + classes) × anchors]` output: boxes in a 640 input, scores in [0, 1).
    static func randomOutput(classes: Int, anchors: Int, seed: UInt64) -> [Float] {
        var rng = DetTestRandom(seed: seed)
        var out = [Float](repeating: 0, count: (4 + classes) * anchors)
        for n in 0..<anchors {
            out[n] = .random(in: 100...540, using: &rng)
            out[anchors + n] = .random(in: 100...540, using: &rng)
            out[2 * anchors + n] = .random(in: 10...200, using: &rng)
            out[3 * anchors + n] = .random(in: 10...200, using: &rng)
            for k in 0..<classes { out[(4 + k) * anchors + n] = .random(in: 0..<1, using: &rng) }
        }
        return out
    }

    /// Per anchor, literally: the first best class, kept when its score exceeds the threshold.
    static func naiveCandidates(_ out: [Float], classes: Int, anchors: Int, threshold: Float)
        -> [UltralyticsPostprocess.Candidate]
    {
        var kept: [UltralyticsPostprocess.Candidate] = []
        for n in 0..<anchors {
            var best = 0
            for k in 1..<classes where out[(4 + k) * anchors + n] > out[(4 + best) * anchors + n] { best = k }
            let score = out[(4 + best) * anchors + n]
            guard score > threshold else { continue }
            let (cx, cy, w, h) = (out[n], out[anchors + n], out[2 * anchors + n], out[3 * anchors + n])
            kept.append(
                .init(x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: score, classID: best))
        }
        return kept
    }

    /// Greedy NMS class by class in Double (no offset trick), then all classes by score.
    static func naiveNMS(_ candidates: [UltralyticsPostprocess.Candidate], iou: Double)
        -> [UltralyticsPostprocess.Candidate]
    {
        func overlap(_ a: UltralyticsPostprocess.Candidate, _ b: UltralyticsPostprocess.Candidate) -> Double {
            PixelBox(x1: Double(a.x1), y1: Double(a.y1), x2: Double(a.x2), y2: Double(a.y2))
                .iou(PixelBox(x1: Double(b.x1), y1: Double(b.y1), x2: Double(b.x2), y2: Double(b.y2)))
        }
        var kept: [UltralyticsPostprocess.Candidate] = []
        for k in Set(candidates.map(\.classID)) {
            var mine: [UltralyticsPostprocess.Candidate] = []
            for c in candidates.filter({ $0.classID == k }).sorted(by: { $0.score > $1.score })
            where !mine.contains(where: { overlap($0, c) > iou }) {
                mine.append(c)
            }
            kept += mine
        }
        return kept.sorted { $0.score > $1.score }
    }

    @Test(arguments: [(1, 50), (3, 400), (80, 2100)])
    func decodeMatchesNaive(_ shape: (Int, Int)) {
        let (classes, anchors) = shape
        let out = Self.randomOutput(classes: classes, anchors: anchors, seed: UInt64(classes * 7 + anchors))
        for threshold: Float in [0.25, 0.9] {
            let ours = out.withUnsafeBufferPointer {
                UltralyticsPostprocess.candidates($0, classes: classes, anchors: anchors, threshold: threshold)
            }
            #expect(ours == Self.naiveCandidates(out, classes: classes, anchors: anchors, threshold: threshold))
            #expect(!ours.isEmpty)
        }
    }

    @Test(arguments: [1, 2, 3])
    func classWiseNMSMatchesNaive(_ seed: UInt64) {
        let out = Self.randomOutput(classes: 4, anchors: 300, seed: seed)
        let candidates = out.withUnsafeBufferPointer {
            UltralyticsPostprocess.candidates($0, classes: 4, anchors: 300, threshold: 0.3)
        }
        for iou: Float in [0.45, 0.7] {
            let ours = UltralyticsPostprocess.nonMaxSuppression(candidates, iou: iou, maxDetections: 10_000)
            let naive = Self.naiveNMS(candidates, iou: Double(iou))
            #expect(ours == naive)
            #expect(ours.count < candidates.count && ours.count > 4)
            // Idempotent: NMS of its own answer keeps everything.
            #expect(UltralyticsPostprocess.nonMaxSuppression(ours, iou: iou, maxDetections: 10_000) == ours)
        }
    }

    @Test func classesNeverSuppressEachOtherAndMaxDetectionsCuts() {
        let a = UltralyticsPostprocess.Candidate(x1: 10, y1: 10, x2: 110, y2: 110, score: 0.9, classID: 0)
        var b = a
        b.classID = 1
        b.score = 0.8
        var c = a
        c.score = 0.7
        let kept = UltralyticsPostprocess.nonMaxSuppression([c, b, a], iou: 0.7, maxDetections: 300)
        #expect(kept == [a, b])
        #expect(UltralyticsPostprocess.nonMaxSuppression([c, b, a], iou: 0.7, maxDetections: 1) == [a])
    }

    @Test func detectionsAreInImagePixels() {
        // One anchor, class 2 of 3: a box centred in the letterboxed 640 input of a 1280×640 image.
        let out: [Float] = [320, 320, 64, 32, 0.1, 0.2, 0.8]
        let lb = UltralyticsLetterbox(imageWidth: 1280, imageHeight: 640, inputWidth: 640, inputHeight: 640)
        let found = out.withUnsafeBufferPointer {
            UltralyticsPostprocess.detections(
                $0, classes: 3, anchors: 1, letterbox: lb, threshold: 0.25, iou: 0.7, maxDetections: 300)
        }
        #expect(found.count == 1)
        #expect(found[0].classID == 2 && found[0].score == 0.8)
        #expect(found[0].box == PixelBox(x1: 576, y1: 288, x2: 704, y2: 352))
        #expect(found[0].relative == RelativeBox(x: 0.5, y: 0.5, width: 0.1, height: 0.1))
    }
}
