import Testing

@testable import Inference
@testable import InferenceKernels

/// Darknet's maxpool, literally (`forward_maxpool_layer`).
func naiveMaxPool(_ input: [Float], _ s: FeatureShape, size: Int, stride: Int, padding: Int) -> [Float] {
    let oh = (s.height + padding - size) / stride + 1
    let ow = (s.width + padding - size) / stride + 1
    let offset = -padding / 2
    var out: [Float] = []
    for c in 0..<s.channels {
        for i in 0..<oh {
            for j in 0..<ow {
                var m = -Float.greatestFiniteMagnitude
                for n in 0..<size {
                    for k in 0..<size {
                        let y = offset + i * stride + n
                        let x = offset + j * stride + k
                        let valid = y >= 0 && y < s.height && x >= 0 && x < s.width
                        let v = valid ? input[(c * s.height + y) * s.width + x] : -Float.greatestFiniteMagnitude
                        m = v > m ? v : m
                    }
                }
                out.append(m)
            }
        }
    }
    return out
}

struct PoolCase: CustomTestStringConvertible, Sendable {
    var c, h, w, size, stride: Int
    var padding: Int? = nil
    var testDescription: String {
        "c\(c) \(h)x\(w) size\(size) stride\(stride) pad\(padding.map(String.init) ?? "default")"
    }
}

@Suite("Pooling, upsample, route, shortcut, activation kernels")
struct LayerKernelTests {
    static let pools: [PoolCase] = [
        PoolCase(c: 3, h: 8, w: 8, size: 2, stride: 2),
        PoolCase(c: 2, h: 13, w: 13, size: 2, stride: 1),  // yolov3-tiny's last maxpool
        PoolCase(c: 2, h: 7, w: 11, size: 2, stride: 2),
        PoolCase(c: 4, h: 10, w: 10, size: 3, stride: 1),  // SPP
        PoolCase(c: 4, h: 10, w: 9, size: 5, stride: 1),
        PoolCase(c: 3, h: 10, w: 10, size: 9, stride: 1),
        PoolCase(c: 2, h: 9, w: 9, size: 3, stride: 2, padding: 0),
        PoolCase(c: 1, h: 5, w: 6, size: 3, stride: 2, padding: 3),
    ]

    @Test(arguments: pools)
    func maxPoolMatchesDarknet(_ t: PoolCase) throws {
        let shape = FeatureShape(channels: t.c, height: t.h, width: t.w)
        let pad = t.padding.map { "padding=\($0)\n" } ?? ""
        let layer = try makeLayers(input: shape, "[maxpool]\nsize=\(t.size)\nstride=\(t.stride)\n" + pad)[0]
        var rng = DetTestRandom(seed: UInt64(t.h * 31 + t.size))
        let input = rng.floats(shape.count)
        let want = naiveMaxPool(input, shape, size: t.size, stride: t.stride, padding: t.padding ?? t.size - 1)
        #expect(layer.outputShape.count == want.count)
        #expect(runLayer(layer, index: 0, buffers: [input]) == want)
    }

    @Test(arguments: [(1, 1, 2), (3, 5, 2), (2, 4, 3)])
    func upsampleIsNearest(_ c: Int, _ hw: Int, _ stride: Int) throws {
        let shape = FeatureShape(channels: c, height: hw, width: hw + 1)
        let layer = try makeLayers(input: shape, "[upsample]\nstride=\(stride)\n")[0]
        var rng = DetTestRandom(seed: 11)
        let input = rng.floats(shape.count)
        let out = runLayer(layer, index: 0, buffers: [input])
        let ow = shape.width * stride
        let oh = shape.height * stride
        var want: [Float] = []
        for ch in 0..<c {
            for y in 0..<oh {
                for x in 0..<ow { want.append(input[(ch * shape.height + y / stride) * shape.width + x / stride]) }
            }
        }
        #expect(out == want)
    }

    @Test(arguments: [1, 2, 4])
    func routeConcatenatesGroups(_ groups: Int) throws {
        let shape = FeatureShape(channels: 3, height: 3, width: 5)
        let cfg = """
            [convolutional]
            filters=8
            size=1
            [convolutional]
            filters=4
            size=1
            [dropout]
            [route]
            layers=-3,-1
            groups=\(groups)
            group_id=\(groups - 1)
            """
        let layers = try makeLayers(input: shape, cfg)
        let route = try #require(layers[3] as? RouteLayer)
        #expect(route.inputs == [0, 2])
        #expect(route.outputShape == FeatureShape(channels: (8 + 4) / groups, height: 3, width: 5))
        var rng = DetTestRandom(seed: 5)
        let input = rng.floats(shape.count)
        let a = rng.floats(8 * 15)
        let b = rng.floats(4 * 15)
        let out = runLayer(route, index: 3, buffers: [input, a, b, b])
        let g = groups - 1
        let want =
            Array(a[(g * 8 / groups * 15)..<((g + 1) * 8 / groups * 15)])
            + Array(b[(g * 4 / groups * 15)..<((g + 1) * 4 / groups * 15)])
        #expect(out == want)
    }

    @Test(arguments: Activation.allCases)
    func shortcutAddsThenActivates(_ activation: Activation) throws {
        let shape = FeatureShape(channels: 3, height: 5, width: 7)
        let conv = "[convolutional]\nfilters=3\nsize=3\npad=1\n"
        let cfg = conv + conv + "[shortcut]\nfrom=-2\nactivation=\(activation.rawValue)\n"
        let layer = try makeLayers(input: shape, cfg)[2]
        #expect(layer.inputs == [1, 0])
        var rng = DetTestRandom(seed: 9)
        let a = rng.floats(shape.count)
        let b = rng.floats(shape.count, in: -30...30)
        let out = runLayer(layer, index: 2, buffers: [a, a, b])
        let want = zip(a, b).map { Float(referenceActivation(activation, Double($1) + Double($0))) }
        #expect(maxRelativeError(out, want) < 1e-6)
    }

    @Test(arguments: Activation.allCases)
    func biasActivationMatchesScalar(_ activation: Activation) {
        var rng = DetTestRandom(seed: 13)
        for (channels, spatial) in [(1, 1), (3, 7), (2, 8), (5, 19)] {
            var data = rng.floats(channels * spatial, in: -25...25)
            let bias = rng.floats(channels)
            var want = data
            for c in 0..<channels {
                for i in 0..<spatial {
                    want[c * spatial + i] = Float(
                        referenceActivation(activation, Double(want[c * spatial + i]) + Double(bias[c])))
                }
            }
            data.withUnsafeMutableBufferPointer { d in
                bias.withUnsafeBufferPointer { b in
                    BiasActivation.apply(
                        d.baseAddress!, channels: channels, spatial: spatial, bias: b.baseAddress!,
                        activation: activation)
                }
            }
            #expect(maxRelativeError(data, want) < 1e-6)
        }
    }

    /// Swish over rows of every length around the vector widths: the AVX-512 loop (16 lanes, the
    /// AVX2 one finishing the rest) gives exactly the AVX2 values, and both the reference's.
    @Test func swishSetsAgree() {
        var rng = DetTestRandom(seed: 17)
        for count in [1, 7, 8, 15, 16, 17, 31, 33, 100] {
            let data = rng.floats(count, in: -90...90)
            let bias: Float = 0.375
            let want = data.map { Float(referenceActivation(.swish, Double($0) + Double(bias))) }
            var results: [[Float]] = []
            for isa in WinogradConvolutionTests.isas {
                var out = data
                out.withUnsafeMutableBufferPointer { d in
                    withUnsafePointer(to: bias) { b in
                        BiasActivation.apply(
                            d.baseAddress!, channels: 1, spatial: count, bias: b, activation: .swish, isa: isa)
                    }
                }
                #expect(maxRelativeError(out, want) < 1e-6, "\(isa) \(count)")
                results.append(out)
            }
            #expect(results.allSatisfy { $0 == results[0] }, "\(count)")
        }
    }

    @Test func activationsFollowDarknet() {
        #expect(Activation.leaky.apply(-2) == -0.2)
        #expect(Activation.relu.apply(-2) == 0)
        #expect(Activation.logistic.apply(0) == 0.5)
        #expect(abs(Activation.mish.apply(1) - 0.865098) < 1e-5)
        #expect(Activation.mish.apply(30) == 30)
        for activation in Activation.allCases {
            for x in stride(from: Float(-40), through: 40, by: 0.37) {
                let want = referenceActivation(activation, Double(x))
                #expect(abs(Double(activation.apply(x)) - want) <= 2e-6 * max(1, abs(want)), "\(activation)(\(x))")
            }
        }
    }
}
