import Testing

@testable import Inference

@Suite("Darknet cfg parser")
struct DarknetConfigTests {
    /// (cfg path, layers, output shapes of the [yolo] heads at the cfg's size, weights bytes or nil).
    static let models: [(String, Int, [FeatureShape], Int?)] = [
        (
            "data/models/yolo-fastest-1.1/yolo-fastest-1.1.cfg", 131,
            [FeatureShape(channels: 255, height: 10, width: 10), FeatureShape(channels: 255, height: 20, width: 20)],
            1_384_268
        ),
        (
            "data/models/yolo-fastest-1.1-xl/yolo-fastest-1.1-xl.cfg", 131,
            [FeatureShape(channels: 255, height: 10, width: 10), FeatureShape(channels: 255, height: 20, width: 20)],
            3_693_964
        ),
        (
            "data/models/darknet-cfg/yolov3.cfg", 107,
            [19, 38, 76].map { FeatureShape(channels: 255, height: $0, width: $0) }, 248_007_048
        ),
        (
            "data/models/darknet-cfg/yolov3-tiny.cfg", 24,
            [13, 26].map { FeatureShape(channels: 255, height: $0, width: $0) }, 35_434_956
        ),
    ]

    @Test(arguments: models.indices)
    func parsesTheSupportedModels(_ i: Int) throws {
        let (path, count, heads, bytes) = Self.models[i]
        let config = try DarknetConfig(text: try SharedData.text(path))
        #expect(config.layers.count == count)
        #expect(config.yoloLayers.map { config.layers[$0].outputShape } == heads)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
        if let bytes { #expect(20 + 4 * config.weightCount == bytes) }
    }

    @Test func yoloFastestHeadsUseGreedyDIoU() throws {
        let config = try DarknetConfig(text: try SharedData.text(Self.models[0].0))
        let head = try #require(config.layers[config.yoloLayers.last!] as? YoloLayer)
        #expect(head.nmsKind == .greedynms)
        #expect(head.anchors.map(\.width) == [12, 37, 52])
        #expect(config.layers.contains { ($0 as? ConvolutionalLayer)?.isDepthwise == true })
        #expect(abs(Double(config.flops) / 1e9 - 0.25) < 0.01)
    }

    @Test func sizeOverrideRescalesEveryLayer() throws {
        let config = try DarknetConfig(text: try SharedData.text(Self.models[2].0), width: 416, height: 416)
        #expect(config.yoloLayers.map { config.layers[$0].outputShape.width } == [13, 26, 52])
    }

    @Test func unknownKeysWarnOncePerKey() throws {
        let cfg = """
            [net]
            width=8
            height=8
            fancy=1
            [convolutional]
            filters=2
            sparkle=3
            activation=linear
            [convolutional]
            filters=2
            sparkle=4
            jitter=2
            """
        let config = try DarknetConfig(text: cfg)
        #expect(config.warnings.count == 3)
        #expect(config.warnings.contains { $0.contains("line 4") && $0.contains("fancy") })
        #expect(config.warnings.filter { $0.contains("sparkle") }.count == 1)
        #expect(config.warnings.contains { $0.contains("jitter") })
    }

    @Test func unknownSectionNamesItsLine() throws {
        let cfg = "[net]\nwidth=8\nheight=8\n\n[convolutional]\nfilters=2\n\n[wobble]\nsize=2\n"
        let error = try #require(throws: InferenceError.self) { try DarknetConfig(text: cfg) }
        #expect(error.code == .invalidConfig)
        #expect(error.message.contains("line 8") && error.message.contains("wobble"))
    }

    @Test(arguments: [
        ("[convolutional]\nfilters=3\nactivation=gelu\n", "gelu"),
        ("[convolutional]\nfilters=4\ngroups=3\n", "groups"),
        ("[route]\nlayers=5\n", "earlier layer"),
        ("[convolutional]\nfilters=x\n", "filters=x"),
        ("[convolutional]\nfilters=20\n[yolo]\nclasses=2\nmask=0,1\nanchors=1,2,3,4\nnum=2\n", "filters=14"),
        ("[convolutional]\nfilters=2\n[maxpool]\nsize=2\nstride=2\n[route]\nlayers=-1,-2\n", "same height"),
        ("[convolutional]\nfilters\n", "expected key=value"),
    ])
    func badConfigsAreErrors(_ body: String, _ mention: String) throws {
        let cfg = "[net]\nwidth=8\nheight=8\nchannels=4\n" + body
        let error = try #require(throws: InferenceError.self) { try DarknetConfig(text: cfg) }
        #expect(error.message.contains(mention), "\(error.message)")
    }

    @Test func commentsAndSpacesAreIgnored() throws {
        let cfg =
            "# a model\n[net]\n width = 8 \nheight=8 # trailing\n;comment\n[convolutional]\nfilters = 2\nsize=3\npad=1\n"
        let config = try DarknetConfig(text: cfg)
        #expect(config.layers[0].outputShape == FeatureShape(channels: 2, height: 8, width: 8))
    }
}
