import Dispatch
import InferenceKernels

/// A loaded Darknet network: immutable and shared by every request. Each call borrows a
/// scratch arena from a pool sized at load, so concurrent calls neither share nor allocate
/// big buffers.
package final class DarknetNetwork: Sendable {
    /// The network input, `channels × height × width`.
    package let input: FeatureShape
    /// Whether images are letterboxed (`[net] letter_box=1`) rather than stretched.
    package let letterbox: Bool
    /// Layers with their (batch-norm folded) weights, shortcuts folded into the convolution
    /// before them where it can add them (`ResidualFusion`).
    package let layers: [any DarknetLayer]
    /// Notes about cfg keys we ignored.
    package let warnings: [String]
    /// FLOPs of one forward pass.
    package let flops: Int
    /// Indices of the `[yolo]` layers.
    package let yoloLayers: [Int]
    /// Classes the heads predict (of the last `[yolo]` layer).
    package let classCount: Int
    /// NMS of the last `[yolo]` layer (Darknet uses the last layer's setting).
    package let nmsKind: NMSKind
    package let betaNMS: Float
    package let pool: ScratchPool
    /// True when every weight is a view into a mapped compiled artifact (no heap copy).
    package var isMapped: Bool {
        layers.allSatisfy { ($0 as? ConvolutionalLayer).map { $0.weights.isEmpty || $0.weights.isView } ?? true }
    }

    /// Builds a network from a parsed cfg and the layers `DarknetWeightsReader.finish()` returned.
    /// `concurrency` arenas may be kept; `prepared` of them are allocated (and touched) now.
    /// `warmUp` runs one forward pass on a blank input so the first request does not pay for
    /// OpenBLAS's first-call buffers and cold code (first forward ≈ a steady one).
    package init(
        config: DarknetConfig, layers: [any DarknetLayer], concurrency: Int = 4, prepared: Int = 1, warmUp: Bool = true
    ) throws {
        guard layers.count == config.layers.count else {
            throw InferenceError(.invalidWeights, "expected \(config.layers.count) layers, got \(layers.count)")
        }
        let heads = config.yoloLayers
        guard let last = heads.last.map({ layers[$0] as? YoloLayer }) ?? nil else {
            throw InferenceError(.invalidConfig, "the cfg has no [yolo] layer")
        }
        input = config.input
        letterbox = config.letterbox
        let layers = ResidualFusion.fuse(layers)
        self.layers = layers
        warnings = config.warnings
        flops = config.flops
        yoloLayers = heads
        classCount = last.classes
        nmsKind = last.nmsKind
        betaNMS = last.betaNMS
        let plan = MemoryPlan(
            input: config.input, layers: layers,
            extraWorkspace: DarknetResize.scratchSize(outWidth: config.input.width, channels: 3))
        pool = ScratchPool(plan: plan, prepared: prepared, capacity: concurrency)
        if warmUp {
            pool.withArena { arena in
                arena.table[0].update(repeating: 0.5, count: input.count)
                run(arena)
            }
        }
    }

    /// Parses `cfg` and `weights` in one go (tests and the CLI; the function streams instead).
    package convenience init(cfg: String, weights: [UInt8], width: Int? = nil, height: Int? = nil, concurrency: Int = 4)
        throws
    {
        let config = try DarknetConfig(text: cfg, width: width, height: height)
        var reader = DarknetWeightsReader(config: config)
        try reader.consume(weights)
        try self.init(config: config, layers: try reader.finish(), concurrency: concurrency)
    }

    /// Bytes the network can hold: its weights plus a scratch arena for each of the requests it
    /// may run at once (arenas are allocated on first use, so this is the most, not the least).
    package var memoryBytes: Int {
        layers.reduce(0) { $0 + $1.weightCount } * 4 + pool.plan.totalFloats * 4 * pool.capacity
    }

    /// Runs the network on `input [channels × height × width]` and returns a copy of every
    /// `[yolo]` head's raw map, in cfg order.
    package func forward(_ input: [Float]) throws -> [[Float]] {
        guard input.count == self.input.count else {
            throw InferenceError(
                .shapeMismatch, "network input is \(self.input) (\(self.input.count) floats), got \(input.count)")
        }
        return pool.withArena { arena in
            input.withUnsafeBufferPointer { arena.table[0].update(from: $0.baseAddress!, count: input.count) }
            run(arena)
            return yoloLayers.map { i in
                Array(UnsafeBufferPointer(start: arena.table[i + 1], count: layers[i].outputShape.count))
            }
        }
    }

    /// Detects objects in `image`: Darknet's resize (or letterbox), forward, YOLO decode, per-class
    /// NMS (skipped when `nms` is 0); detections sorted by score, highest first.
    /// `layerTimes`, when given, receives each layer's forward time in seconds (0 for identity
    /// layers), indexed like `layers`.
    package func detect(
        _ image: RGBImage, threshold: Float = 0.25, nms: Float = 0.45,
        layerTimes: UnsafeMutableBufferPointer<Double>? = nil
    ) throws -> DetectionResult {
        guard input.channels == 3 else {
            throw InferenceError(.invalidConfig, "detection needs a 3-channel network, this one has \(input.channels)")
        }
        return pool.withArena { arena in
            let t0 = DispatchTime.now().uptimeNanoseconds
            preprocess(image, into: arena)
            let t1 = DispatchTime.now().uptimeNanoseconds
            run(arena, layerTimes: layerTimes)
            let t2 = DispatchTime.now().uptimeNanoseconds
            let detections = postprocess(arena, image: image, threshold: threshold, nms: nms)
            let t3 = DispatchTime.now().uptimeNanoseconds
            return DetectionResult(
                width: image.width, height: image.height, detections: detections,
                timings: DetectionTimings(
                    preprocess: Double(t1 - t0) / 1e9, forward: Double(t2 - t1) / 1e9,
                    postprocess: Double(t3 - t2) / 1e9))
        }
    }

    /// Writes the network input for `image` into the arena.
    private func preprocess(_ image: RGBImage, into arena: ScratchArena) {
        let dst = arena.table[0]
        var outW = input.width
        var outH = input.height
        var offX = 0
        var offY = 0
        if letterbox {
            (outW, outH) = Letterbox.scaledSize(
                imageWidth: image.width, imageHeight: image.height, networkWidth: input.width,
                networkHeight: input.height)
            offX = (input.width - outW) / 2
            offY = (input.height - outH) / 2
            dst.update(repeating: 0.5, count: input.count)
        }
        image.pixels.withUnsafeBufferPointer { px in
            DarknetResize.resize(
                pixels: px.baseAddress!, width: image.width, height: image.height, channels: 3,
                outWidth: outW, outHeight: outH, output: dst, planeWidth: input.width, planeHeight: input.height,
                offsetX: offX, offsetY: offY, scratch: arena.inputWorkspace)
        }
    }

    /// Runs every layer on the arena's buffers, timing each into `layerTimes` when given
    /// (identity layers get 0).
    private func run(_ arena: ScratchArena, layerTimes times: UnsafeMutableBufferPointer<Double>? = nil) {
        if let times {
            precondition(
                times.count >= layers.count, "layerTimes holds \(times.count), the network has \(layers.count) layers")
            times.update(repeating: 0)
        }
        for (i, layer) in layers.enumerated() where !layer.isIdentity {
            let t0 = times == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            layer.forward(LayerIO(table: arena.table, index: i, workspace: arena.workspaces[i]))
            times?[i] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
    }

    private func postprocess(_ arena: ScratchArena, image: RGBImage, threshold: Float, nms: Float) -> [Detection] {
        var candidates: [DetectionCandidate] = []
        for i in yoloLayers {
            guard let head = layers[i] as? YoloLayer else { continue }
            YoloDecoder.decode(arena.table[i + 1], layer: head, network: input, threshold: threshold, into: &candidates)
        }
        YoloDecoder.correctBoxes(
            &candidates, imageWidth: image.width, imageHeight: image.height, network: input, letterbox: letterbox)
        if nms > 0 { NonMaxSuppression.apply(&candidates, threshold: nms, kind: nmsKind, beta: betaNMS) }
        return Self.detections(
            from: candidates, threshold: threshold, imageWidth: image.width, imageHeight: image.height)
    }

    /// Every (candidate, class) with probability above `threshold`, in image pixels, best first.
    package static func detections(
        from candidates: [DetectionCandidate], threshold: Float, imageWidth: Int, imageHeight: Int
    ) -> [Detection] {
        var out: [Detection] = []
        let w = Double(imageWidth)
        let h = Double(imageHeight)
        for c in candidates {
            let b = c.box
            let box = PixelBox(
                x1: (Double(b.x) - Double(b.width) / 2) * w, y1: (Double(b.y) - Double(b.height) / 2) * h,
                x2: (Double(b.x) + Double(b.width) / 2) * w, y2: (Double(b.y) + Double(b.height) / 2) * h)
            for (k, p) in c.probabilities.enumerated() where p > threshold {
                out.append(Detection(classID: k, score: p, box: box, relative: b))
            }
        }
        return out.enumerated().sorted { a, b in
            if a.element.score != b.element.score { return a.element.score > b.element.score }
            if a.element.classID != b.element.classID { return a.element.classID < b.element.classID }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// What `detect` found, with the image size and where the time went.
package struct DetectionResult: Sendable {
    package var width: Int
    package var height: Int
    package var detections: [Detection]
    package var timings: DetectionTimings
}

/// Seconds spent in each stage of one `detect` call.
package struct DetectionTimings: Sendable {
    package var preprocess: Double
    package var forward: Double
    package var postprocess: Double
}
