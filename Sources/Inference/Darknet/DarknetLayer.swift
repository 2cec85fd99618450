/// One layer of a Darknet network. A layer parses its own cfg section (through the
/// `LayerRegistry`), checks its input shapes, and reports its output shape, workspace and
/// weight count. Loaded layers are immutable; `forward` reads and writes only the buffers it is given.
package protocol DarknetLayer: Sendable {
    /// The cfg section name, e.g. `convolutional`.
    var type: String { get }
    var outputShape: FeatureShape { get }
    /// Absolute indices of the layers whose outputs this layer reads (`-1` is the network
    /// input); the first one is "the input".
    var inputs: [Int] { get }
    /// True when the output is the first input unchanged (`[dropout]`, one-layer `[route]`,
    /// `[yolo]`): no buffer, no work.
    var isIdentity: Bool { get }
    /// Floats of per-call workspace `forward` needs.
    var workspaceSize: Int { get }
    /// Floats this layer takes from the `.weights` file.
    var weightCount: Int { get }
    /// Multiply-adds × 2 of one forward pass.
    var flops: Int { get }
    /// A copy with its weights set from `floats` (`weightCount` of them, in file order).
    func loadingWeights(_ floats: [Float]) throws -> any DarknetLayer
    /// Runs the layer on the buffers of `io`.
    func forward(_ io: LayerIO)
}

extension DarknetLayer {
    package var isIdentity: Bool { false }
    package var workspaceSize: Int { 0 }
    package var weightCount: Int { 0 }
    package var flops: Int { 0 }
    package func loadingWeights(_ floats: [Float]) throws -> any DarknetLayer { self }
}

/// What a layer's parser may know about the network built so far.
package struct LayerContext: Sendable {
    /// This layer's index (0 = the first layer after `[net]`).
    package let index: Int
    /// Output shapes of layers `0 ..< index`.
    package let shapes: [FeatureShape]
    /// The network input shape.
    package let networkInput: FeatureShape

    /// The previous layer's output (the network input for layer 0).
    package var inputShape: FeatureShape { index == 0 ? networkInput : shapes[index - 1] }

    /// Shape of layer `i` (`-1` is the network input).
    package func shape(of i: Int) -> FeatureShape { i < 0 ? networkInput : shapes[i] }

    /// Darknet's layer reference: negative is relative to this layer, otherwise absolute.
    package func resolve(_ reference: Int, in section: CfgSection, key: String) throws -> Int {
        let absolute = reference < 0 ? index + reference : reference
        guard absolute >= 0, absolute < index else {
            throw section.error("\(key)=\(reference) does not name an earlier layer (this is layer \(index))")
        }
        return absolute
    }
}

/// The buffers of one layer's forward pass. `table[i + 1]` is the output buffer of layer `i`
/// (`table[0]` the network input); identity layers share their input's buffer.
package struct LayerIO {
    package let table: UnsafePointer<UnsafeMutablePointer<Float>>
    package let index: Int
    package let workspace: UnsafeMutablePointer<Float>

    package init(table: UnsafePointer<UnsafeMutablePointer<Float>>, index: Int, workspace: UnsafeMutablePointer<Float>)
    {
        self.table = table
        self.index = index
        self.workspace = workspace
    }

    /// Output buffer of layer `i` (`-1`: the network input).
    @inline(__always)
    package func buffer(_ i: Int) -> UnsafeMutablePointer<Float> { table[i + 1] }

    /// This layer's output buffer.
    @inline(__always)
    package var output: UnsafeMutablePointer<Float> { table[index + 1] }
}
