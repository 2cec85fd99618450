/// Where each layer's output lives inside one scratch arena. Outputs are kept only until
/// their last reader has run, so buffers are reused (Darknet keeps every layer's output;
/// yolov3 @416 would need ~250 MB per request that way).
package struct MemoryPlan: Sendable, Equatable {
    /// Float offset of the buffer of layer `i` at `offsets[i + 1]` (`offsets[0]`: the network input).
    package let offsets: [Int]
    /// Float offset and size of the shared workspace (im2col columns, padded planes, resize rows).
    package let workspaceOffset: Int
    package let workspaceSize: Int
    /// Floats of the whole arena.
    package let totalFloats: Int

    package init(input: FeatureShape, layers: [any DarknetLayer], extraWorkspace: Int = 0) {
        let n = layers.count
        // value[i + 1]: which buffer holds layer i's output (identity layers share their input's).
        var value = [Int](repeating: 0, count: n + 1)
        for (i, layer) in layers.enumerated() {
            value[i + 1] = layer.isIdentity ? value[layer.inputs[0] + 1] : i + 1
        }
        // Last layer that reads each buffer; [yolo] outputs live to the end (they are decoded after).
        var lastUse = [Int](repeating: -1, count: n + 1)
        for (i, layer) in layers.enumerated() {
            for j in layer.inputs { lastUse[value[j + 1]] = max(lastUse[value[j + 1]], i) }
            if layer is YoloLayer { lastUse[value[i + 1]] = n }
        }
        lastUse[value[n]] = n

        // Greedy slot assignment: a slot is free once its buffer's last reader has run.
        var slotSize: [Int] = []
        var slotOwner: [Int] = []  // buffer id currently in the slot, -1 when free
        var slotOf = [Int](repeating: -1, count: n + 1)
        func allocate(_ buffer: Int, _ size: Int) {
            var best = -1
            for s in slotSize.indices where slotOwner[s] < 0 {
                if best < 0 {
                    best = s
                    continue
                }
                let fits = slotSize[s] >= size
                let bestFits = slotSize[best] >= size
                if fits && (!bestFits || slotSize[s] < slotSize[best])
                    || (!fits && !bestFits && slotSize[s] > slotSize[best])
                {
                    best = s
                }
            }
            if best < 0 {
                slotSize.append(size)
                slotOwner.append(buffer)
                slotOf[buffer] = slotSize.count - 1
            } else {
                slotSize[best] = max(slotSize[best], size)
                slotOwner[best] = buffer
                slotOf[buffer] = best
            }
        }
        allocate(0, input.count)
        for (i, layer) in layers.enumerated() {
            for s in slotOwner.indices where slotOwner[s] >= 0 && lastUse[slotOwner[s]] < i {
                slotOwner[s] = -1
            }
            if !layer.isIdentity { allocate(i + 1, layer.outputShape.count) }
        }
        // Lay the slots out, each rounded up to 16 floats (64-byte alignment).
        var slotOffset: [Int] = []
        var total = 0
        for size in slotSize {
            slotOffset.append(total)
            total += (size + 15) / 16 * 16
        }
        offsets = (0...n).map { slotOffset[slotOf[value[$0]]] }
        workspaceOffset = total
        workspaceSize = max(layers.map(\.workspaceSize).max() ?? 0, extraWorkspace)
        totalFloats = total + (workspaceSize + 15) / 16 * 16
    }
}
