/// Removes copies: a `Split` along a leading axis makes its outputs views of its input, and a
/// `Concat` along a leading axis has its inputs computed straight into their place in its output
/// (a split's whole input moves when all its parts are concatenated in order), so neither runs.
enum InPlaceLayout {
    /// A buffer that lives inside another: `base`'s memory from `offset` floats on.
    struct View: Sendable {
        var base: Int
        var offset: Int
    }

    /// Rewrites `steps`, returning the views. `fixed` buffers (graph inputs, constants) never move.
    static func apply(_ steps: inout [Step], bufferSizes: [Int], fixed: Set<Int>) -> [Int: View] {
        var views: [Int: View] = [:]
        var removed = Set<Int>()
        var written = Set<Int>()
        for step in steps { written.formUnion(Fusion.writes(step)) }
        // Splits whose parts are contiguous become views.
        for (i, step) in steps.enumerated() {
            guard case .split(let input, let shape, let axis, let sizes, let outputs) = step,
                shape[..<axis].reduce(1, *) == 1
            else {
                continue
            }
            let unit = shape[(axis + 1)...].reduce(1, *)
            var offset = 0
            for (o, size) in zip(outputs, sizes) {
                views[o] = View(base: input, offset: offset)
                offset += size * unit
            }
            removed.insert(i)
        }
        // Concats whose inputs can all be computed in place.
        var moved = Set<Int>()
        for (i, step) in steps.enumerated() {
            guard case .concat(let inputs, let shapes, let axis, let output) = step,
                shapes[0][..<axis].reduce(1, *) == 1,
                views[output] == nil
            else { continue }
            // Each input, or the split input it is a part of, with its offset in the output.
            var placements: [(buffer: Int, offset: Int)] = []
            var offset = 0
            var j = 0
            var possible = true
            while j < inputs.count {
                let b = inputs[j]
                if let view = views[b], view.offset == 0, views[view.base] == nil {
                    // Parts of one split: they must all follow in order.
                    let parts = views.filter { $0.value.base == view.base }.sorted { $0.value.offset < $1.value.offset }
                        .map(\.key)
                    guard j + parts.count <= inputs.count, Array(inputs[j..<(j + parts.count)]) == parts else {
                        possible = false
                        break
                    }
                    placements.append((view.base, offset))
                    offset += bufferSizes[view.base]
                    j += parts.count
                } else {
                    placements.append((b, offset))
                    offset += bufferSizes[b]
                    j += 1
                }
            }
            let buffers = placements.map(\.buffer)
            guard possible, offset == bufferSizes[output], Set(buffers).count == buffers.count,
                buffers.allSatisfy({
                    views[$0] == nil && !fixed.contains($0) && !moved.contains($0) && written.contains($0)
                        && $0 != output
                })
            else { continue }
            for p in placements {
                views[p.buffer] = View(base: output, offset: p.offset)
                moved.insert(p.buffer)
            }
            removed.insert(i)
        }
        steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return views
    }
}
