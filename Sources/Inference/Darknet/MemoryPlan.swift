/// Where each layer's output and each layer's workspace live inside one scratch arena.
///
/// Every buffer (a layer's output, kept from the layer that writes it to its last reader) and
/// every workspace (im2col columns, padded planes, Winograd transforms: live only while its
/// layer runs) is an interval of steps with a size; they are placed at offsets, one at a time,
/// each at the lowest offset where it overlaps no interval live at the same time (the greedy
/// offset assignment of TensorFlow Lite's arena planner). Darknet keeps every layer's output
/// (yolov3 @416 would need ~250 MB per request that way); slots reused whole and one workspace
/// as large as the largest layer's beside them took 62 MiB for yolov3 @416; this takes 34 MiB,
/// what is live at once at its widest step (the 416×416 and 208×208 maps of layers 0 and 1).
///
/// A Winograd convolution that folds a residual in (`ResidualFusion`) and is that residual's
/// last reader writes its output over the residual: its output transform reads each residual
/// float just before it stores the output float at the same index
/// (`WinogradConvolution.storeClipped`), so the sum needs no second buffer.
package struct MemoryPlan: Sendable, Equatable {
    /// Float offset of the buffer of layer `i` at `offsets[i + 1]` (`offsets[0]`: the network input).
    package let offsets: [Int]
    /// Float offset of layer `i`'s workspace at `workspaceOffsets[i]` (0 when it needs none).
    package let workspaceOffsets: [Int]
    /// Float offset of the input's workspace (the resize rows `preprocess` uses while it writes
    /// the network input; `extraWorkspace` floats).
    package let inputWorkspaceOffset: Int
    /// Floats of the largest workspace.
    package let workspaceSize: Int
    /// Floats of the whole arena.
    package let totalFloats: Int
    /// Layers whose output is written over their residual's buffer (see above).
    package let inPlaceResidual: Set<Int>

    /// One block of the arena: floats `size`, live from step `start` through `end` (step -1
    /// is the preprocessing; step `i` is layer `i`; the step after the last layer is decoding).
    package struct Interval {
        var size: Int
        var start: Int
        var end: Int
        var area: Int { size * (end - start + 1) }

        package init(size: Int, start: Int, end: Int) {
            self.size = size
            self.start = start
            self.end = end
        }
    }

    package init(input: FeatureShape, layers: [any DarknetLayer], extraWorkspace: Int = 0, inPlace: Bool = true) {
        let n = layers.count
        // source[i + 1]: the layer that writes the floats at table entry i + 1 (identity layers
        // pass their input's on).
        var source = Array(0...n)
        for (i, layer) in layers.enumerated() where layer.isIdentity {
            source[i + 1] = source[layer.inputs[0] + 1]
        }
        // The last step that reads each writer's output (identity layers read nothing: a folded
        // shortcut still names its residual, which the convolution before it has read); [yolo]
        // heads and the last layer are decoded after the forward pass.
        var lastRead = [Int](repeating: -1, count: n + 1)
        for (i, layer) in layers.enumerated() {
            if layer is YoloLayer { lastRead[source[i + 1]] = n }
            if layer.isIdentity { continue }
            for j in layer.inputs { lastRead[source[j + 1]] = max(lastRead[source[j + 1]], i) }
        }
        lastRead[source[n]] = n
        func size(_ writer: Int) -> Int { writer == 0 ? input.count : layers[writer - 1].outputShape.count }

        // buffer[w]: the buffer writer w's output goes to (its own, or its residual's).
        var buffer = Array(0...n)
        var inPlaceResidual = Set<Int>()
        for (i, layer) in layers.enumerated() where inPlace && !layer.isIdentity {
            guard let conv = layer as? ConvolutionalLayer, conv.writesOverResidual, let r = conv.residual else {
                continue
            }
            let writer = source[r + 1]
            if lastRead[writer] == i, writer != source[conv.inputs[0] + 1], size(writer) == size(i + 1) {
                buffer[i + 1] = buffer[writer]
                inPlaceResidual.insert(i)
            }
        }
        var intervals: [Int: Interval] = [:]  // by buffer id
        for w in 0...n where w == 0 || !layers[w - 1].isIdentity {
            let b = buffer[w]
            let end = max(lastRead[w], w - 1)
            if var v = intervals[b] {
                v.start = min(v.start, w - 1)
                v.end = max(v.end, end)
                intervals[b] = v
            } else {
                intervals[b] = Interval(size: size(w), start: w - 1, end: end)
            }
        }
        // Blocks: buffers (by id ≥ 0), workspaces (layer i as -2 - i, the input's as -1).
        var blocks: [(id: Int, interval: Interval)] = intervals.map { ($0.key, $0.value) }
        for (i, layer) in layers.enumerated() where layer.workspaceSize > 0 {
            blocks.append((-2 - i, Interval(size: layer.workspaceSize, start: i, end: i)))
        }
        if extraWorkspace > 0 { blocks.append((-1, Interval(size: extraWorkspace, start: -1, end: -1))) }
        let (placed, total) = Self.place(blocks)

        offsets = (0...n).map { placed[buffer[source[$0]]] ?? 0 }
        workspaceOffsets = (0..<n).map { placed[-2 - $0] ?? 0 }
        inputWorkspaceOffset = placed[-1] ?? 0
        workspaceSize = max(layers.map(\.workspaceSize).max() ?? 0, extraWorkspace)
        totalFloats = total
        self.inPlaceResidual = inPlaceResidual
    }

    /// Offsets of `blocks` and the floats they span: placed one at a time, each at the lowest
    /// offset clear of every block placed so far that is live at the same time, in three orders
    /// (largest first; earliest first; largest size × lifetime first), keeping the tightest. Sizes
    /// are rounded up to 16 floats (64 bytes). For yolov3 @416 earliest-first comes within 0.1 MiB
    /// of the most that is live at once.
    package static func place(_ blocks: [(id: Int, interval: Interval)]) -> (offsets: [Int: Int], total: Int) {
        typealias Block = (id: Int, interval: Interval)
        let orders: [(Block, Block) -> Bool] = [
            { ($1.interval.size, $0.interval.start, $0.id) < ($0.interval.size, $1.interval.start, $1.id) },
            { ($0.interval.start, $1.interval.size, $0.id) < ($1.interval.start, $0.interval.size, $1.id) },
            { ($1.interval.area, $0.interval.start, $0.id) < ($0.interval.area, $1.interval.start, $1.id) },
        ]
        var best: (offsets: [Int: Int], total: Int)?
        for order in orders {
            var done: [(offset: Int, size: Int, interval: Interval)] = []
            var offsets: [Int: Int] = [:]
            var total = 0
            for block in blocks.sorted(by: order) {
                let size = rounded(block.interval.size)
                let busy = done.filter {
                    $0.interval.start <= block.interval.end && block.interval.start <= $0.interval.end
                }
                .map { ($0.offset, $0.offset + $0.size) }.sorted { $0.0 < $1.0 }
                var offset = 0
                for (lower, upper) in busy {
                    if lower - offset >= size { break }
                    offset = max(offset, upper)
                }
                done.append((offset, size, block.interval))
                offsets[block.id] = offset
                total = max(total, offset + size)
            }
            if best == nil || total < best!.total { best = (offsets, total) }
        }
        return best ?? ([:], 0)
    }

    private static func rounded(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }
}
