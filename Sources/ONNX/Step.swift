import Inference
import InferenceKernels

/// Element-wise functions of one tensor.
enum UnaryOp: Sendable, Equatable {
    case sigmoid, relu, tanh, exp, softplus, neg, sqrt, abs
    case leakyRelu(Float)
    /// `x · sigmoid(x)`.
    case silu
}

/// Element-wise functions of two broadcast tensors.
enum BinaryOp: String, Sendable {
    case add = "Add"
    case sub = "Sub"
    case mul = "Mul"
    case div = "Div"
    case pow = "Pow"
    case max = "Max"
    case min = "Min"
}

/// A convolution as the importer first sees it: weights still in ONNX order
/// `[filters × channels/groups × k × k]`, so a following batch norm or activation can be folded
/// in before the kernel packs them.
struct ConvSpec: Sendable {
    var input: Int
    var output: Int
    var channels: Int, height: Int, width: Int
    var filters: Int, kernel: Int, stride: Int, pad: Int, groups: Int
    var weights: [Float]
    var bias: [Float]
    var activation: Activation
    /// A buffer added after the activation (a following residual `Add`), or nil.
    var residual: Int?
    /// The ONNX node's name (for step profiles), empty when the file gives none.
    var name = ""
    var outHeight: Int { (height + 2 * pad - kernel) / stride + 1 }
    var outWidth: Int { (width + 2 * pad - kernel) / stride + 1 }
}

/// One step of a loaded graph: which kernel, on which buffers (indices into the network's
/// buffer table), with every shape fixed at import.
enum Step: Sendable {
    /// A convolution spec, replaced by `.conv` when the importer finishes.
    case pendingConv(ConvSpec)
    case conv(ConvKernel)
    case unary(UnaryOp, input: Int, output: Int, count: Int)
    /// `output[c, i] = input[c, i] · scale[c] + shift[c]` over `outer` blocks of channels
    /// (a batch norm that could not be folded into a convolution).
    case channelAffine(input: Int, output: Int, outer: Int, channels: Int, inner: Int, scale: [Float], shift: [Float])
    case binary(BinaryOp, a: Int, aShape: [Int], b: Int, bShape: [Int], output: Int, shape: [Int])
    case concat(inputs: [Int], shapes: [[Int]], axis: Int, output: Int)
    case split(input: Int, shape: [Int], axis: Int, sizes: [Int], outputs: [Int])
    /// Per-axis start and step, output shape `outShape`.
    case slice(input: Int, shape: [Int], starts: [Int], steps: [Int], output: Int, outShape: [Int])
    case transpose(input: Int, shape: [Int], perm: [Int], output: Int)
    /// Broadcasts `input` of `shape` to `outShape` (Expand).
    case expand(input: Int, shape: [Int], output: Int, outShape: [Int])
    case softmax(input: Int, outer: Int, axis: Int, inner: Int, output: Int)
    case maxPool(MaxPoolSpec)
    /// Nearest-neighbour resize of `planes` planes `height × width` with precomputed source
    /// rows and columns for each output row and column.
    case resizeNearest(input: Int, planes: Int, height: Int, width: Int, rows: [Int], columns: [Int], output: Int)
    /// `output[b] = a[b] · b[b]` (`m × k` by `k × n`), `batch` products; a stride of 0 repeats an operand.
    case matmul(a: Int, b: Int, output: Int, batch: Int, m: Int, n: Int, k: Int, aStride: Int, bStride: Int)
    /// An LSTM layer (see `LSTMSpec`).
    case lstm(LSTMSpec)
}

struct MaxPoolSpec: Sendable {
    var input: Int, output: Int
    var planes: Int, height: Int, width: Int
    var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var outHeight: Int, outWidth: Int
}

/// A convolution on the Inference kernels: a Darknet `ConvolutionalLayer` built from the ONNX
/// attributes, with the weights packed for the kernel it picked.
struct ConvKernel: Sendable {
    let layer: ConvolutionalLayer
    let input: Int
    let output: Int
    /// The buffer the kernel adds as it stores (`layer.residual` is then 1: table slot 2).
    let residual: Int?
    /// The one-layer Darknet cfg the layer was built from (a compiled artifact rebuilds it).
    let cfg: String
    /// The ONNX Conv node's name (for step profiles); empty when loaded from a compiled artifact,
    /// which does not record it.
    let name: String

    /// Builds the layer through the Darknet cfg parser (so kernel choice and packing are the
    /// Darknet engine's own) and loads `spec`'s weights.
    init(_ spec: ConvSpec) throws {
        cfg = """
            [net]
            width=\(spec.width)
            height=\(spec.height)
            channels=\(spec.channels)
            [convolutional]
            filters=\(spec.filters)
            size=\(spec.kernel)
            stride=\(spec.stride)
            padding=\(spec.pad)
            groups=\(spec.groups)
            activation=\(spec.activation.rawValue)
            """
        let layer = try Self.unloaded(cfg, "\(spec.channels)→\(spec.filters) k\(spec.kernel)")
        let loaded: any DarknetLayer
        do {
            loaded = try layer.loadingWeights(spec.bias + spec.weights)
        } catch {
            throw ONNXError(.invalidModel, "convolution weights: \(error)")
        }
        guard let conv = loaded as? ConvolutionalLayer else {
            throw ONNXError(.unsupported, "convolution could not be loaded on the engine's kernels")
        }
        input = spec.input
        output = spec.output
        name = spec.name
        if let r = spec.residual, conv.addsResidual {
            self.layer = conv.addingResidual(1)
            residual = r
        } else {
            self.layer = conv
            residual = nil
        }
    }

    /// A kernel whose `layer` (built from `cfg`, with its residual folded in when `residual` is
    /// set) already holds its weights in execution layout (a compiled artifact's).
    init(cfg: String, layer: ConvolutionalLayer, input: Int, output: Int, residual: Int?) {
        self.cfg = cfg
        name = ""
        self.layer = residual == nil ? layer : layer.addingResidual(1)
        self.input = input
        self.output = output
        self.residual = residual
    }

    /// The layer `cfg` describes, without weights.
    static func unloaded(_ cfg: String, _ what: String) throws -> ConvolutionalLayer {
        let config: DarknetConfig
        do {
            config = try DarknetConfig(text: cfg)
        } catch {
            throw ONNXError(.unsupported, "convolution \(what): \(error)")
        }
        guard let layer = config.layers.first as? ConvolutionalLayer else {
            throw ONNXError(.unsupported, "convolution could not be built on the engine's kernels")
        }
        return layer
    }

    var workspaceSize: Int { layer.workspaceSize }
}
