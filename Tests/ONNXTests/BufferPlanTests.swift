import Foundation
import Testing

@testable import Inference
@testable import ONNX

/// The per-call arena of an ONNX network: buffers live at the same time never share floats, and
/// buffers that do not share floats.
@Suite("ONNX buffer plan")
struct BufferPlanTests {
    typealias B = ModelBuilder

    /// Checks `network`'s plan against the lifetimes worked out here, step by step: every buffer
    /// that owns memory has a place inside the arena, and any two whose lifetimes overlap (a view
    /// counts as its base) occupy disjoint floats. Returns the floats the buffers would take
    /// without the plan.
    @discardableResult
    static func expectDisjointWhileLive(_ network: ONNXNetwork) -> Int {
        let views = Dictionary(uniqueKeysWithValues: network.views.map { ($0.buffer, $0.view.base) })
        func root(_ b: Int) -> Int { views[b].map(root) ?? b }
        let n = network.steps.count
        var live: [Int: ClosedRange<Int>] = [:]
        func touch(_ b: Int, _ step: Int) {
            let r = root(b)
            live[r] = live[r].map { min($0.lowerBound, step)...max($0.upperBound, step) } ?? step...step
        }
        for (i, step) in network.steps.enumerated() {
            for b in Fusion.reads(step) { touch(b, i) }
            for b in Fusion.writes(step) { touch(b, i) }
        }
        for input in network.inputs { touch(input.buffer, -1) }
        for output in network.outputs { touch(output.buffer, n) }
        let owned = network.bufferSizes.indices.filter {
            network.constants.buffers[$0] == nil && views[$0] == nil && live[$0] != nil
        }
        var unplanned = 0
        for b in owned {
            unplanned += network.bufferSizes[b]
            guard let offset = network.plan.offsets[b] else {
                Issue.record("buffer \(b) has no place")
                continue
            }
            #expect(offset >= 0 && offset + network.bufferSizes[b] <= network.plan.totalFloats, "buffer \(b)")
        }
        var clashes = 0
        for (i, a) in owned.enumerated() {
            for b in owned[(i + 1)...] {
                guard let ta = live[a], let tb = live[b], ta.overlaps(tb), let oa = network.plan.offsets[a],
                    let ob = network.plan.offsets[b]
                else {
                    continue
                }
                if oa < ob + network.bufferSizes[b] && ob < oa + network.bufferSizes[a] { clashes += 1 }
            }
        }
        #expect(clashes == 0)
        return unplanned
    }

    @Test func yolov8nBuffersLiveAtOnceNeverShareFloats() async throws {
        let bytes = try SharedModels.bytes("data/models/onnx/yolov8n.onnx")
        let network = try await offThePool { try ONNXImporter.load(bytes) }
        let unplanned = Self.expectDisjointWhileLive(network)
        // Every intermediate tensor of its own took 190 MiB; sharing floats between tensors that
        // are not live together takes a fraction.
        #expect(network.plan.totalFloats * 4 < unplanned, "\(network.plan.totalFloats) of \(unplanned) floats")
        // Its concatenations are laid out in place: views of buffers that own floats.
        #expect(!network.views.isEmpty)
        // Two calls on one arena answer alike (no call's buffers leak into the next one's).
        var rng = SeededFloats(seed: 4)
        let feeds = ["images": rng.floats(3 * 640 * 640)]
        let (first, second) = try await offThePool { (try network.run(feeds), try network.run(feeds)) }
        #expect(first == second && first.first?.isEmpty == false)
    }

    @Test func lstmBuffersLiveAtOnceNeverShareFloats() throws {
        var rng = SeededFloats(seed: 9)
        let (seq, batch, input, hidden) = (5, 3, 4, 6)
        let model = B.model(
            nodes: [
                B.node(
                    "LSTM", ["x", "W", "R", "B"], ["Y", "Y_h", "Y_c"], name: "lstm",
                    [B.attr("hidden_size", int: hidden), B.attr("direction", string: "bidirectional")]),
                B.node("Tanh", ["Y_h"], ["t"]), B.node("Add", ["t", "Y_c"], ["z"]),
            ],
            inputs: [("x", [seq, batch, input])], outputs: ["Y", "z"],
            initializers: [
                B.tensor("W", [2, 4 * hidden, input], rng.floats(8 * hidden * input)),
                B.tensor("R", [2, 4 * hidden, hidden], rng.floats(8 * hidden * hidden)),
                B.tensor("B", [2, 8 * hidden], rng.floats(16 * hidden)),
            ])
        let network = try ONNXImporter.load(try model.serializedBytes())
        Self.expectDisjointWhileLive(network)
        // The same answers call after call: no call's buffers leak into the next one's.
        let feeds = ["x": rng.floats(seq * batch * input)]
        let first = try network.run(feeds)
        _ = try network.run(["x": rng.floats(seq * batch * input)])
        #expect(try network.run(feeds) == first)
    }
}
