import InferenceKernels

/// Scratch memory for one mini-batch's forward and backward pass (backpropagation through
/// time), sized once for a network, a window length and a largest batch, then reused for
/// every batch of a training run. One arena, freed in `deinit`. Not shared between threads.
package final class LSTMGradientWorkspace {
    package let steps: Int
    package let maxBatch: Int
    package let parameterCount: Int
    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int

    /// Per LSTM layer: offsets of gates [T,B,4U], c [T,B,U], tanh(c) [T,B,U], h [T,B,U],
    /// dH [T,B,U] (gradient flowing into h_t from the layer above).
    private struct LayerBuffers {
        var gates: Int, c: Int, tanhC: Int, h: Int, dH: Int
    }
    private var layerBuffers: [LayerBuffers] = []
    /// Offsets: inputs [T,B,I], targets [B,O], y [B,O], dy [B,O], dz [B,4Umax],
    /// dcCarry [B,Umax], dhRec [B,Umax], zeros [B,Umax], gradient [P].
    private let inputsOffset: Int, targetsOffset: Int, yOffset: Int, dyOffset: Int
    private let dzOffset: Int, dcOffset: Int, dhRecOffset: Int, zerosOffset: Int, gradientOffset: Int

    /// Sizes the workspace for `network` over windows of `steps` and batches up to `maxBatch`.
    package init(network: LSTMNetwork, steps: Int, maxBatch: Int) {
        self.steps = steps
        self.maxBatch = maxBatch
        self.parameterCount = network.parameterCount
        var offset = 0
        func take(_ n: Int) -> Int {
            defer { offset += n }
            return offset
        }
        let tb = steps * maxBatch
        for layer in network.layers {
            let u = layer.units
            layerBuffers.append(
                LayerBuffers(
                    gates: take(tb * 4 * u), c: take(tb * u), tanhC: take(tb * u), h: take(tb * u), dH: take(tb * u)))
        }
        let maxUnits = network.units.max() ?? 1
        inputsOffset = take(tb * network.inputSize)
        targetsOffset = take(maxBatch * network.outputs)
        yOffset = take(maxBatch * network.outputs)
        dyOffset = take(maxBatch * network.outputs)
        dzOffset = take(maxBatch * 4 * maxUnits)
        dcOffset = take(maxBatch * maxUnits)
        dhRecOffset = take(maxBatch * maxUnits)
        zerosOffset = take(maxBatch * maxUnits)
        gradientOffset = take(network.parameterCount)
        arenaCount = offset
        arena = .allocate(capacity: offset)
        arena.initialize(repeating: 0, count: offset)
    }

    deinit { arena.deallocate() }

    /// Where the trainer writes a batch's inputs: [steps, batch, inputSize], time-major.
    package var inputs: UnsafeMutablePointer<Float> { arena + inputsOffset }
    /// Where the trainer writes a batch's targets: [batch, outputs].
    package var targets: UnsafeMutablePointer<Float> { arena + targetsOffset }
    /// The last batch's outputs: [batch, outputs].
    package var outputs: UnsafePointer<Float> { UnsafePointer(arena + yOffset) }
    /// The gradient of the last batch's loss: [parameterCount], same layout as the parameters.
    package var gradient: UnsafeMutablePointer<Float> { arena + gradientOffset }

    /// Mean squared error (Keras `mse`: mean over outputs, then over the batch) of `network`
    /// on the batch in `inputs`/`targets`, and its gradient in `gradient` (overwritten).
    package func lossAndGradient(network: LSTMNetwork, batch: Int) -> Float {
        let steps = self.steps
        let outs = network.outputs
        let a = arena
        let grad = gradient
        for j in 0..<parameterCount { grad[j] = 0 }
        return network.parameters.withUnsafeBufferPointer { pw -> Float in
            let p = pw.baseAddress!
            let zeros = UnsafePointer(a + zerosOffset)
            // Forward, keeping every step's gates and states.
            var input = UnsafePointer(a + inputsOffset)
            for (l, layer) in network.layers.enumerated() {
                let buf = layerBuffers[l]
                let u = layer.units
                for t in 0..<steps {
                    let hPrev = t == 0 ? zeros : UnsafePointer(a + buf.h + (t - 1) * batch * u)
                    let cPrev = t == 0 ? zeros : UnsafePointer(a + buf.c + (t - 1) * batch * u)
                    LSTMKernels.cellForward(
                        batch: batch, inputSize: layer.inputSize, units: u,
                        x: input + t * batch * layer.inputSize, hPrev: hPrev, cPrev: cPrev,
                        kernel: p + layer.kernel, recurrent: p + layer.recurrent, bias: p + layer.bias,
                        gates: a + buf.gates + t * batch * 4 * u, c: a + buf.c + t * batch * u,
                        tanhC: a + buf.tanhC + t * batch * u, h: a + buf.h + t * batch * u)
                }
                input = UnsafePointer(a + buf.h)
            }
            let top = network.layers[network.layers.count - 1]
            let topBuf = layerBuffers[network.layers.count - 1]
            let hLast = UnsafePointer(a + topBuf.h + (steps - 1) * batch * top.units)
            let y = a + yOffset
            let dy = a + dyOffset
            let targets = a + targetsOffset
            LSTMKernels.denseForward(
                batch: batch, inputSize: top.units, outputs: outs, useTanh: network.activation == .tanh,
                h: hLast, kernel: p + network.denseKernel, bias: p + network.denseBias, y: y)
            var loss: Float = 0
            let scale = 2 / Float(batch * outs)
            for j in 0..<(batch * outs) {
                let e = y[j] - targets[j]
                loss += e * e
                dy[j] = scale * e
            }
            loss /= Float(batch * outs)
            // Backward: Dense, then each layer from the top, each step from the last.
            for l in 0..<network.layers.count {
                let buf = layerBuffers[l]
                let n = steps * batch * network.layers[l].units
                for j in 0..<n { a[buf.dH + j] = 0 }
            }
            LSTMKernels.denseBackward(
                batch: batch, inputSize: top.units, outputs: outs, useTanh: network.activation == .tanh,
                h: hLast, kernel: p + network.denseKernel, y: UnsafePointer(y), dy: dy,
                dKernel: grad + network.denseKernel, dBias: grad + network.denseBias,
                dh: a + topBuf.dH + (steps - 1) * batch * top.units)
            for l in stride(from: network.layers.count - 1, through: 0, by: -1) {
                let layer = network.layers[l]
                let buf = layerBuffers[l]
                let u = layer.units
                let below: LayerBuffers? = l > 0 ? layerBuffers[l - 1] : nil
                let x = below.map { UnsafePointer(a + $0.h) } ?? UnsafePointer(a + inputsOffset)
                let dc = a + dcOffset
                let dhRec = a + dhRecOffset
                for j in 0..<(batch * u) {
                    dc[j] = 0
                    dhRec[j] = 0
                }
                for t in stride(from: steps - 1, through: 0, by: -1) {
                    // dh_t = from above (dH) + from step t+1 (dhRec).
                    let dh = a + buf.dH + t * batch * u
                    for j in 0..<(batch * u) { dh[j] += dhRec[j] }
                    let hPrev = t == 0 ? zeros : UnsafePointer(a + buf.h + (t - 1) * batch * u)
                    let cPrev = t == 0 ? zeros : UnsafePointer(a + buf.c + (t - 1) * batch * u)
                    LSTMKernels.cellBackward(
                        batch: batch, inputSize: layer.inputSize, units: u,
                        dh: UnsafePointer(dh), dcCarry: dc,
                        gates: UnsafePointer(a + buf.gates + t * batch * 4 * u),
                        tanhC: UnsafePointer(a + buf.tanhC + t * batch * u), cPrev: cPrev, hPrev: hPrev,
                        x: x + t * batch * layer.inputSize,
                        kernel: p + layer.kernel, recurrent: p + layer.recurrent,
                        dz: a + dzOffset,
                        dKernel: grad + layer.kernel, dRecurrent: grad + layer.recurrent, dBias: grad + layer.bias,
                        dx: below.map { a + $0.dH + t * batch * layer.inputSize }, dhPrev: dhRec)
                }
            }
            return loss
        }
    }
}
