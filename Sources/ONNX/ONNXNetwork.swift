import Dispatch
import Inference
import InferenceKernels
import Synchronization

/// A graph input or output: its name, fixed shape and buffer.
package struct ONNXTensorInfo: Sendable, CustomStringConvertible {
    package let name: String
    package let shape: [Int]
    let buffer: Int

    package var description: String { "\(name) [\(shape.map(String.init).joined(separator: "×"))]" }
}

/// An imported ONNX graph on the engine's CPU kernels. Immutable and shared by every call; each
/// call takes its buffers from a pool of per-call scratch sets.
package final class ONNXNetwork: Sendable {
    package let inputs: [ONNXTensorInfo]
    package let outputs: [ONNXTensorInfo]
    /// Node counts by op type in the file (before folding and fusion).
    package let opCounts: [(op: String, count: Int)]
    /// The opset of the default ONNX domain.
    package let opset: Int
    let steps: [Step]
    /// Floats of each buffer.
    let bufferSizes: [Int]
    /// Buffers holding constants (read-only at run time).
    let constants: ConstantStore
    let workspaceFloats: Int
    /// Buffers that live inside others (no memory of their own), resolved base-first.
    let views: [(buffer: Int, view: InPlaceLayout.View)]
    /// Where the per-call buffers live in a call's arena.
    let plan: BufferPlan
    private let pool = Mutex<[Scratch]>([])

    init(
        inputs: [ONNXTensorInfo], outputs: [ONNXTensorInfo], opCounts: [(op: String, count: Int)], opset: Int,
        steps: [Step], bufferSizes: [Int], constants: ConstantStore, views: [Int: InPlaceLayout.View]
    ) {
        // Order views so a view's base is resolved before it (chains are at most a few deep).
        func depth(_ b: Int) -> Int { views[b].map { 1 + depth($0.base) } ?? 0 }
        self.views = views.map { (buffer: $0.key, view: $0.value) }.sorted { depth($0.buffer) < depth($1.buffer) }
        self.inputs = inputs
        self.outputs = outputs
        self.opCounts = opCounts
        self.opset = opset
        self.steps = steps
        self.bufferSizes = bufferSizes
        self.constants = constants
        var workspace = 0
        for step in steps {
            if case .conv(let c) = step { workspace = max(workspace, c.workspaceSize) }
        }
        workspaceFloats = workspace
        plan = BufferPlan(
            steps: steps, bufferSizes: bufferSizes, constants: Set(constants.buffers.keys), views: views,
            inputs: inputs.map(\.buffer), outputs: outputs.map(\.buffer))
        // One call's arena, its pages present now: the first forward is not slower than a warm one.
        pool.withLock { $0.append(Scratch(plan: plan, workspace: workspace)) }
    }

    /// A one-line description of step `i` (kind, shapes, the kernel that runs it and, for a
    /// convolution imported from a file, its ONNX node name), for profiles.
    package func describeStep(_ i: Int) -> String {
        switch steps[i] {
        case .conv(let c):
            let l = c.layer
            return
                "conv \(l.input)→\(l.outputShape) k\(l.size) s\(l.stride) g\(l.groups) \(l.activation) \(l.kernelName)"
                + (c.name.isEmpty ? "" : " \(c.name)")
        default:
            let text = "\(steps[i])"
            return String(text.prefix(while: { $0 != "(" }))
        }
    }

    /// Floats one call takes: every buffer (constants included) and the kernels' workspace.
    package var floatsPerCall: Int { bufferSizes.reduce(0, +) + workspaceFloats }

    /// True when the weights and constants are views into a mapped compiled artifact.
    package var isMapped: Bool {
        constants.isMapped
            || steps.contains { if case .conv(let c) = $0 { return c.layer.weights.isView } else { return false } }
    }

    /// Number of steps after folding and fusion (for `inspect`).
    package var stepCount: Int { steps.count }
    /// Number of convolutions and how many carry a fused activation.
    package var convolutionSummary: (count: Int, fused: Int) {
        var count = 0
        var fused = 0
        for case .conv(let c) in steps {
            count += 1
            if c.layer.activation != .linear { fused += 1 }
        }
        return (count, fused)
    }

    /// Runs the graph on `feeds` (input name → float32 values in C order, each exactly its
    /// input's shape) and returns every output's values in graph order.
    package func run(_ feeds: [String: [Float]]) throws -> [[Float]] {
        try run(feeds, stepTimes: nil)
    }

    /// `run`, also storing each step's seconds in `stepTimes` (`stepCount` of them) when given.
    package func run(_ feeds: [String: [Float]], stepTimes: UnsafeMutableBufferPointer<Double>?) throws -> [[Float]] {
        for name in feeds.keys where !inputs.contains(where: { $0.name == name }) {
            throw ONNXError(
                .invalidInput,
                "the graph has no input '\(name)' (inputs: \(inputs.map(\.description).joined(separator: ", ")))")
        }
        let scratch = pool.withLock { $0.popLast() } ?? Scratch(plan: plan, workspace: workspaceFloats)
        defer { pool.withLock { $0.append(scratch) } }
        for input in inputs {
            guard let values = feeds[input.name] else {
                throw ONNXError(.invalidInput, "missing input '\(input.name)' (shape \(input.shape))")
            }
            let count = bufferSizes[input.buffer]
            guard values.count == count else {
                throw ONNXError(
                    .invalidInput,
                    "input '\(input.name)' needs \(count) floats (shape \(input.shape)), got \(values.count)")
            }
            values.withUnsafeBufferPointer {
                scratch.buffers[input.buffer]!.update(from: $0.baseAddress!, count: count)
            }
        }
        var table = [UnsafeMutablePointer<Float>]()
        table.reserveCapacity(bufferSizes.count)
        // Views own no floats: their entry is set from their base's just below.
        for b in bufferSizes.indices { table.append(constants.buffers[b] ?? scratch.buffers[b] ?? scratch.workspace) }
        for (buffer, view) in views { table[buffer] = table[view.base] + view.offset }
        table.withUnsafeBufferPointer { t in
            for (i, step) in steps.enumerated() {
                let start = stepTimes == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                Executor.run(step, t.baseAddress!, workspace: scratch.workspace)
                if let stepTimes, i < stepTimes.count {
                    stepTimes[i] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                }
            }
        }
        return outputs.map { Array(UnsafeBufferPointer(start: table[$0.buffer], count: bufferSizes[$0.buffer])) }
    }
}

/// Constant buffers of a network: allocated once at import, or views into a mapped compiled
/// artifact that `owner` keeps alive.
final class ConstantStore: @unchecked Sendable {
    /// Buffer index → floats (never written after import).
    let buffers: [Int: UnsafeMutablePointer<Float>]
    /// The mapping the buffers point into; nil when they were allocated here.
    private let owner: (any AnyObject & Sendable)?

    init(_ values: [Int: [Float]]) {
        var buffers: [Int: UnsafeMutablePointer<Float>] = [:]
        for (b, v) in values {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, v.count))
            v.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: v.count) }
            buffers[b] = p
        }
        self.buffers = buffers
        owner = nil
    }

    /// Views of read-only memory that `owner` keeps mapped and unchanged while it lives.
    init(views: [Int: UnsafePointer<Float>], owner: any AnyObject & Sendable) {
        buffers = views.mapValues { UnsafeMutablePointer(mutating: $0) }
        self.owner = owner
    }

    /// True when the buffers are views into a mapped artifact.
    var isMapped: Bool { owner != nil }

    deinit { if owner == nil { for p in buffers.values { p.deallocate() } } }
}

/// One call's memory: its buffers where the plan puts them and the kernels' workspace after
/// them, in one pre-faulted arena.
final class Scratch: @unchecked Sendable {
    /// Each buffer that owns memory (nil for constants and views).
    let buffers: [UnsafeMutablePointer<Float>?]
    let workspace: UnsafeMutablePointer<Float>
    private let arena: PrefaultedFloats

    init(plan: BufferPlan, workspace: Int) {
        arena = PrefaultedFloats(count: plan.totalFloats + max(1, workspace))
        let base = arena.base
        buffers = plan.offsets.map { $0.map { base + $0 } }
        self.workspace = base + plan.totalFloats
    }
}
