import Inference

/// Where each per-call buffer of an `ONNXNetwork` lives in one arena: a buffer holds memory only
/// from the step that first writes it to the step that last reads it (graph inputs from before
/// the first step, graph outputs until the answer is copied out), and buffers whose lifetimes do
/// not overlap share floats (`MemoryPlan.place`, the Darknet engine's placement). A view (a
/// buffer laid inside another by `InPlaceLayout`) keeps its base alive for as long as either is
/// used. A buffer that nothing names (folding and fusion leave such behind) owns no floats.
///
/// Without it every intermediate tensor had floats of its own: 190 MiB per call for yolov8n @640,
/// too much to touch at load, so the first forward paid for the page faults.
struct BufferPlan: Sendable, Equatable {
    /// Offset of each buffer that owns memory (not a constant, not a view, named by a step, an
    /// input or an output); nil for the others.
    let offsets: [Int?]
    /// Floats of the buffers' part of the arena (the kernels' workspace follows it).
    let totalFloats: Int

    init(
        steps: [Step], bufferSizes: [Int], constants: Set<Int>, views: [Int: InPlaceLayout.View], inputs: [Int],
        outputs: [Int]
    ) {
        func root(_ b: Int) -> Int { views[b].map { root($0.base) } ?? b }
        let n = steps.count
        var first = [Int](repeating: .max, count: bufferSizes.count)
        var last = [Int](repeating: .min, count: bufferSizes.count)
        func use(_ b: Int, at step: Int) {
            let r = root(b)
            first[r] = min(first[r], step)
            last[r] = max(last[r], step)
        }
        for (i, step) in steps.enumerated() {
            for b in Fusion.reads(step) + Fusion.writes(step) { use(b, at: i) }
        }
        for b in inputs { use(b, at: -1) }
        for b in outputs { use(b, at: n) }
        var blocks: [(id: Int, interval: MemoryPlan.Interval)] = []
        // A buffer no step, input or output names (left behind by folding and fusion) owns nothing.
        for b in bufferSizes.indices where !constants.contains(b) && views[b] == nil && first[b] <= last[b] {
            blocks.append((b, MemoryPlan.Interval(size: max(1, bufferSizes[b]), start: first[b], end: last[b])))
        }
        let (placed, total) = MemoryPlan.place(blocks)
        offsets = bufferSizes.indices.map { placed[$0] }
        totalFloats = total
    }
}
