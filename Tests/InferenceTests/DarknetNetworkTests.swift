import Foundation
import Testing

@testable import Inference

/// Every layer with naive kernels and its own buffer: the reference for the planned, fast forward.
func naiveForward(_ layers: [any DarknetLayer], input: [Float], inputShape: FeatureShape) -> [[Float]] {
    var outputs: [[Float]] = []
    func value(_ i: Int) -> [Float] { i < 0 ? input : outputs[i] }
    for (i, layer) in layers.enumerated() {
        let inShape = i == 0 ? inputShape : layers[i - 1].outputShape
        switch layer {
        case let conv as ConvolutionalLayer:
            outputs.append(
                naiveConvolution(
                    input: value(i - 1), shape: inShape, weights: conv.unpackedWeights, bias: conv.bias,
                    filters: conv.filters,
                    size: conv.size, stride: conv.stride, pad: conv.pad, groups: conv.groups,
                    activation: conv.activation))
        case let pool as MaxPoolLayer:
            outputs.append(
                naiveMaxPool(value(i - 1), inShape, size: pool.size, stride: pool.stride, padding: pool.padding))
        case let route as RouteLayer:
            var out: [Float] = []
            for (j, s) in zip(route.inputs, route.inputShapes) {
                let part = s.channels / route.groups * s.spatial
                out += value(j)[(route.groupID * part)..<((route.groupID + 1) * part)]
            }
            outputs.append(out)
        case let shortcut as ShortcutLayer:
            outputs.append(
                zip(value(i - 1), value(shortcut.inputs[1])).map {
                    Float(referenceActivation(shortcut.activation, Double($0) + Double($1)))
                })
        case let up as UpsampleLayer:
            var out: [Float] = []
            let s = up.stride
            for c in 0..<inShape.channels {
                for y in 0..<(inShape.height * s) {
                    for x in 0..<(inShape.width * s) {
                        out.append(up.scale * value(i - 1)[(c * inShape.height + y / s) * inShape.width + x / s])
                    }
                }
            }
            outputs.append(out)
        default:
            outputs.append(value(i - 1))  // dropout, yolo
        }
    }
    return outputs
}

/// Plausible random weights for every layer of `config` (batch-norm variances positive).
func randomWeights(_ config: DarknetConfig, seed: UInt64) -> [Float] {
    var rng = DetTestRandom(seed: seed)
    var floats: [Float] = []
    for case let conv as ConvolutionalLayer in config.layers {
        let n = conv.filters
        let fanIn = conv.input.channels / conv.groups * conv.size * conv.size
        floats += rng.floats(n, in: -0.1...0.1)
        if conv.batchNormalize {
            floats += rng.floats(n, in: 0.8...1.2) + rng.floats(n, in: -0.1...0.1) + rng.floats(n, in: 0.5...1.5)
        }
        let scale = (3 / Float(fanIn)).squareRoot()
        floats += rng.floats(n * fanIn, in: -scale...scale)
    }
    return floats
}

@Suite("Darknet network")
struct DarknetNetworkTests {
    /// Every layer kind and variant in a few channels: yolov3-tiny's maxpool size 2 stride 1,
    /// grouped and depthwise convolutions, mish, dropout, shortcut, route with groups, upsample, two heads.
    static let miniCfg = """
        [net]
        width=32
        height=32
        channels=3
        [convolutional]
        batch_normalize=1
        filters=8
        size=3
        pad=1
        activation=leaky
        [maxpool]
        size=2
        stride=2
        [convolutional]
        batch_normalize=1
        filters=16
        size=3
        stride=1
        pad=1
        activation=leaky
        [maxpool]
        size=2
        stride=2
        [convolutional]
        filters=16
        size=3
        pad=1
        activation=relu
        [maxpool]
        size=2
        stride=1
        [convolutional]
        batch_normalize=1
        filters=32
        size=3
        pad=1
        groups=2
        activation=leaky
        [convolutional]
        filters=16
        size=1
        activation=mish
        [convolutional]
        batch_normalize=1
        filters=16
        groups=16
        size=5
        pad=1
        activation=linear
        [dropout]
        probability=.1
        [shortcut]
        from=-3
        activation=leaky
        [route]
        layers=-1
        groups=2
        group_id=1
        [convolutional]
        filters=21
        size=1
        activation=linear
        [yolo]
        mask=3,4,5
        anchors=4,6, 8,10, 12,9, 16,20, 20,16, 30,28
        classes=2
        num=6
        [route]
        layers=-4
        [convolutional]
        filters=8
        size=1
        activation=logistic
        [upsample]
        stride=2
        [route]
        layers=-1,2
        [convolutional]
        filters=21
        size=1
        activation=linear
        [yolo]
        mask=0,1,2
        anchors=4,6, 8,10, 12,9, 16,20, 20,16, 30,28
        classes=2
        num=6
        """

    static let smallModels: [(String, Int)] = [
        ("data/models/yolo-fastest-1.1/yolo-fastest-1.1.cfg", 32),
        ("mini", 32),
        ("residual", 24),  // Tests/Support/residual-blocks.cfg
    ]

    static func network(_ path: String, size: Int, seed: UInt64 = 1) throws -> (DarknetNetwork, DarknetConfig) {
        let text =
            path == "mini"
            ? miniCfg
            : path == "residual"
                ? try RepositoryData.text("Tests/Support/residual-blocks.cfg") : try SharedData.text(path)
        let config = try DarknetConfig(text: text, width: size, height: size)
        var reader = DarknetWeightsReader(config: config)
        var bytes: [UInt8] = []
        for v in [Int32(0), 2, 0] { withUnsafeBytes(of: v) { bytes += $0 } }
        withUnsafeBytes(of: UInt64(0)) { bytes += $0 }
        randomWeights(config, seed: seed).withUnsafeBytes { bytes += $0 }
        try reader.consume(bytes)
        return (try DarknetNetwork(config: config, layers: try reader.finish(), concurrency: 2), config)
    }

    @Test(arguments: smallModels.indices)
    func plannedForwardMatchesNaive(_ i: Int) throws {
        let (path, size) = Self.smallModels[i]
        let (net, _) = try Self.network(path, size: size)
        var rng = DetTestRandom(seed: 4)
        let input = rng.floats(net.input.count, in: 0...1)
        let heads = try net.forward(input)
        let reference = naiveForward(net.layers, input: input, inputShape: net.input)
        #expect(heads.count == net.yoloLayers.count && heads.count == 2)
        for (h, i) in zip(heads, net.yoloLayers) {
            #expect(maxRelativeError(h, reference[i]) < 1e-3, "head \(i)")
        }
    }

    @Test func residualBlocksAreFolded() throws {
        let (net, _) = try Self.network("residual", size: 24)
        let convs = [2, 4].map { net.layers[$0] as? ConvolutionalLayer }
        #expect(convs[0]?.winograd != nil && convs[0]?.residual == 0)
        #expect(convs[1]?.panel == true && convs[1]?.residual == 3)
        #expect([3, 5].allSatisfy { (net.layers[$0] as? ShortcutLayer)?.isIdentity == true })
        // The mini network's shortcut (leaky, after a depthwise layer and a dropout) stays.
        let (mini, _) = try Self.network("mini", size: 32)
        #expect(mini.layers.compactMap { $0 as? ShortcutLayer }.allSatisfy { !$0.fused })
    }

    @Test(
        arguments: [
            "data/models/darknet-cfg/yolov3.cfg", "data/models/yolo-fastest-1.1/yolo-fastest-1.1.cfg",
            "data/models/yolo-fastest-1.1-xl/yolo-fastest-1.1-xl.cfg", "residual",
        ],
        [false, true])
    func memoryPlanNeverOverwritesALiveBuffer(_ path: String, _ fuse: Bool) throws {
        let text =
            path == "residual"
            ? try RepositoryData.text("Tests/Support/residual-blocks.cfg") : try SharedData.text(path)
        let config = try DarknetConfig(text: text)
        let layers = fuse ? ResidualFusion.fuse(config.layers) : config.layers
        if fuse, path.hasSuffix("yolov3.cfg") {
            // Every residual block of yolov3 ends in a Winograd or panel convolution: 23 folded.
            #expect(layers.compactMap { $0 as? ShortcutLayer }.filter { $0.fused }.count == 23)
        }
        let extra = 1000
        let plan = MemoryPlan(input: config.input, layers: layers, extraWorkspace: extra)
        // Which layer's floats does each table entry hold, and which step reads them last
        // (counting every input every layer names, identity or not, except a folded
        // shortcut's residual, which the convolution before it reads)?
        var owner = Array(0...layers.count)
        for (i, l) in layers.enumerated() where l.isIdentity { owner[i + 1] = owner[l.inputs[0] + 1] }
        var lastUse = [Int](repeating: -1, count: layers.count + 1)
        for (i, l) in layers.enumerated() {
            let reads = (l as? ShortcutLayer)?.fused == true ? [l.inputs[0]] : l.inputs
            for j in reads { lastUse[owner[j + 1]] = max(lastUse[owner[j + 1]], i) }
        }
        for i in config.yoloLayers { lastUse[owner[i + 1]] = layers.count }
        lastUse[owner[layers.count]] = layers.count
        func size(_ b: Int) -> Int { b == 0 ? config.input.count : layers[b - 1].outputShape.count }
        func overlaps(_ a: Range<Int>, _ b: Range<Int>) -> Bool { !a.isEmpty && !b.isEmpty && a.overlaps(b) }
        func region(_ b: Int) -> Range<Int> { plan.offsets[b]..<(plan.offsets[b] + size(b)) }
        // The preprocessing writes the input and its resize rows at once.
        let inputScratch = plan.inputWorkspaceOffset..<(plan.inputWorkspaceOffset + extra)
        #expect(!overlaps(inputScratch, region(0)))
        #expect(inputScratch.upperBound <= plan.totalFloats)
        for (i, layer) in layers.enumerated() where !layer.isIdentity {
            let output = region(i + 1)
            let workspace = plan.workspaceOffsets[i]..<(plan.workspaceOffsets[i] + layer.workspaceSize)
            #expect(output.upperBound <= plan.totalFloats && workspace.upperBound <= plan.totalFloats)
            #expect(!overlaps(output, workspace), "layer \(i)'s output and workspace overlap")
            let conv = layer as? ConvolutionalLayer
            for b in 0...layers.count where b != i + 1 && owner[b] == b && b <= i && lastUse[b] >= i {
                #expect(!overlaps(workspace, region(b)), "layer \(i)'s workspace overwrites live buffer \(b)")
                // Written over: only a Winograd layer's own residual, exactly, read by nobody after it.
                if let conv, let r = conv.residual, owner[r + 1] == b, plan.inPlaceResidual.contains(i) {
                    #expect(conv.winograd != nil && region(b) == output && lastUse[b] == i)
                    continue
                }
                #expect(!overlaps(output, region(b)), "layer \(i) overwrites the live output of buffer \(b)")
            }
        }
        // Reuse pays: far less than one buffer per layer (the 24×24 test network is all workspace).
        let naive = layers.reduce(config.input.count) { $0 + $1.outputShape.count }
        #expect(path == "residual" || plan.totalFloats < naive / 2)
    }

    /// yolov3 @416's arena (buffers and workspaces, the bulk of a loaded model's memory beside
    /// its weights): 62 MiB with whole-slot reuse and one workspace at the end, 34 MiB placed by
    /// intervals with in-place residuals (what is live at once at its widest step).
    @Test func yolov3ArenaIsPlacedTightly() throws {
        let config = try DarknetConfig(
            text: try SharedData.text("data/models/darknet-cfg/yolov3.cfg"), width: 416, height: 416)
        let layers = ResidualFusion.fuse(config.layers)
        let plan = MemoryPlan(input: config.input, layers: layers)
        let mib = Double(plan.totalFloats * 4) / Double(1 << 20)
        #expect(mib < 36, "arena \(mib) MiB")
        // Every Winograd residual block that is its residual's last reader writes in place.
        #expect(plan.inPlaceResidual.count >= 20)
        #expect(plan.inPlaceResidual.allSatisfy { (layers[$0] as? ConvolutionalLayer)?.winograd != nil })
        let separate = MemoryPlan(input: config.input, layers: layers, inPlace: false)
        #expect(separate.inPlaceResidual.isEmpty && separate.totalFloats > plan.totalFloats)
    }

    @Test func residualWinogradWritesInPlaceAndPanelsDoNot() throws {
        let (net, _) = try Self.network("residual", size: 24)
        // Layer 2 (Winograd) is the last reader of layer 0, its residual; layer 4 (panels) is not
        // allowed to (its products land before the residual is added).
        #expect(net.pool.plan.inPlaceResidual == [2])
        #expect(net.pool.plan.offsets[3] == net.pool.plan.offsets[1])
    }

    @Test func concurrentCallsAgreeAndReuseArenas() async throws {
        let (net, _) = try Self.network(Self.smallModels[0].0, size: 64)
        var rng = DetTestRandom(seed: 8)
        let inputs = (0..<4).map { _ in rng.floats(net.input.count, in: 0...1) }
        let serial = try inputs.map { try net.forward($0) }
        let parallel = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for (k, input) in inputs.enumerated() { group.addTask { (k, try net.forward(input)) } }
            var out = [[[Float]]](repeating: [], count: inputs.count)
            for try await (k, r) in group { out[k] = r }
            return out
        }
        // Equal up to BLAS rounding: other suites change OpenBLAS's process-wide thread count
        // (MSCRServer applies MSCR_THREADS), which may reorder sums. A shared-arena bug would
        // show as whole wrong maps, far beyond this tolerance.
        let flat = { (x: [[[Float]]]) in x.flatMap { $0.flatMap { $0 } } }
        let (p, q) = (flat(parallel), flat(serial))
        #expect(p.count == q.count)
        #expect(zip(p, q).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        #expect(net.pool.idleCount >= 1 && net.pool.idleCount <= 2)
    }

    @Test func detectReportsImageSizeAndSortedScores() throws {
        let (net, _) = try Self.network(Self.smallModels[0].0, size: 64)
        var rng = DetTestRandom(seed: 10)
        let image = try RGBImage(
            width: 50, height: 30, pixels: (0..<4500).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let result = try net.detect(image, threshold: 0.05, nms: 0.45)
        #expect(result.width == 50 && result.height == 30)
        #expect(zip(result.detections, result.detections.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(result.detections.allSatisfy { $0.score > 0.05 && $0.classID < net.classCount })
        #expect(result.timings.forward > 0)
    }

    @Test func wrongInputSizeIsAnError() throws {
        let (net, _) = try Self.network(Self.smallModels[1].0, size: 32)
        #expect(throws: InferenceError.self) { try net.forward([1, 2, 3]) }
    }
}
