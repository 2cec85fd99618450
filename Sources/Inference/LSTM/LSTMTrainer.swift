/// Training examples: `count` sequences of `steps` x `inputSize` (sample-major) and their
/// `outputs` targets each.
package struct LSTMSamples: Sendable {
    package var count: Int
    package var steps: Int
    package var inputSize: Int
    package var outputs: Int
    /// [count, steps, inputSize]
    package var inputs: [Float]
    /// [count, outputs]
    package var targets: [Float]

    package init(count: Int, steps: Int, inputSize: Int, outputs: Int, inputs: [Float], targets: [Float]) {
        self.count = count
        self.steps = steps
        self.inputSize = inputSize
        self.outputs = outputs
        self.inputs = inputs
        self.targets = targets
    }

    /// The samples at `indices`, in that order.
    package func subset(_ indices: [Int]) -> LSTMSamples {
        let per = steps * inputSize
        var x: [Float] = []
        x.reserveCapacity(indices.count * per)
        var y: [Float] = []
        y.reserveCapacity(indices.count * outputs)
        for i in indices {
            x.append(contentsOf: inputs[(i * per)..<((i + 1) * per)])
            y.append(contentsOf: targets[(i * outputs)..<((i + 1) * outputs)])
        }
        return LSTMSamples(
            count: indices.count, steps: steps, inputSize: inputSize, outputs: outputs, inputs: x, targets: y)
    }

    /// The inputs transposed to time-major [steps, count, inputSize], as `LSTMNetwork.predict` takes them.
    package func timeMajorInputs() -> [Float] {
        var out = [Float](repeating: 0, count: inputs.count)
        for n in 0..<count {
            for t in 0..<steps {
                for k in 0..<inputSize {
                    out[(t * count + n) * inputSize + k] = inputs[(n * steps + t) * inputSize + k]
                }
            }
        }
        return out
    }
}

/// How to fit: Keras `fit` semantics (mini-batches of `batchSize`, the last one partial,
/// reshuffled every epoch when `shuffle`), Adam, MSE; optional early stopping on a
/// validation set that restores the best weights.
package struct LSTMTrainingOptions: Sendable {
    package var epochs: Int
    package var batchSize: Int
    package var learningRate: Float
    package var shuffle: Bool
    /// Seeds the shuffling (weights are seeded when the network is built).
    package var seed: UInt64
    /// Stop after this many epochs without a better validation loss (needs validation samples).
    package var patience: Int?

    package init(
        epochs: Int, batchSize: Int = 32, learningRate: Float = 0.001, shuffle: Bool = true, seed: UInt64 = 0,
        patience: Int? = nil
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.shuffle = shuffle
        self.seed = seed
        self.patience = patience
    }
}

/// What happened while fitting.
package struct LSTMTrainingHistory: Sendable {
    /// Mean training loss of each epoch (average of the batch losses, as Keras reports it).
    package var losses: [Float] = []
    /// Validation MSE after each epoch, when a validation set was given.
    package var validationLosses: [Float] = []
    /// The epoch (1-based) whose weights were kept; 0 means the initial weights.
    package var bestEpoch = 0
    /// Epochs actually run (fewer than asked when early stopping fired).
    package var epochsRun: Int { losses.count }
}

/// Fits an `LSTMNetwork` by backpropagation through time and Adam.
package enum LSTMTrainer {
    /// Called after every epoch with (epoch, training loss, validation loss); return false to stop.
    package typealias Progress = (Int, Float, Float?) -> Bool

    /// Trains `network` in place on `samples`. With `validation` and `options.patience`, stops
    /// when the validation loss has not improved for `patience` epochs and keeps the best
    /// weights seen (the initial weights included).
    @discardableResult
    package static func fit(
        _ network: inout LSTMNetwork, samples: LSTMSamples, validation: LSTMSamples? = nil,
        options: LSTMTrainingOptions, progress: Progress? = nil
    ) throws -> LSTMTrainingHistory {
        guard samples.count > 0 else { throw InferenceError(.invalidInput, "no training samples") }
        guard samples.inputSize == network.inputSize, samples.outputs == network.outputs,
            samples.inputs.count == samples.count * samples.steps * samples.inputSize,
            samples.targets.count == samples.count * samples.outputs
        else {
            throw InferenceError(.shapeMismatch, "training samples do not match the network's inputs and outputs")
        }
        guard options.batchSize > 0, options.epochs >= 0 else {
            throw InferenceError(.invalidInput, "batch size must be positive and epochs non-negative")
        }
        let batchSize = min(options.batchSize, samples.count)
        let workspace = LSTMGradientWorkspace(network: network, steps: samples.steps, maxBatch: batchSize)
        var adam = AdamOptimizer(parameterCount: network.parameterCount, learningRate: options.learningRate)
        var rng = SeededGenerator(seed: options.seed)
        var history = LSTMTrainingHistory()
        let validationInputs = validation?.timeMajorInputs()
        var best = network.parameters
        var bestLoss =
            try validation.map { try validationLoss(network, $0, inputs: validationInputs ?? []) } ?? .infinity
        var sinceBest = 0
        let (steps, width) = (samples.steps, samples.inputSize)
        let perSample = steps * width

        for epoch in stride(from: 1, through: options.epochs, by: 1) {
            let order = options.shuffle ? rng.permutation(samples.count) : Array(0..<samples.count)
            var epochLoss: Float = 0
            var batches = 0
            var start = 0
            while start < samples.count {
                let b = min(batchSize, samples.count - start)
                // Gather the batch time-major: inputs [steps, b, width], targets [b, outputs].
                let x = workspace.inputs
                let y = workspace.targets
                samples.inputs.withUnsafeBufferPointer { src in
                    for n in 0..<b {
                        let s = src.baseAddress! + order[start + n] * perSample
                        for t in 0..<steps {
                            (x + (t * b + n) * width).update(from: s + t * width, count: width)
                        }
                    }
                }
                for n in 0..<b {
                    for o in 0..<samples.outputs {
                        y[n * samples.outputs + o] = samples.targets[order[start + n] * samples.outputs + o]
                    }
                }
                epochLoss += workspace.lossAndGradient(network: network, batch: b)
                adam.step(&network.parameters, gradient: workspace.gradient)
                batches += 1
                start += b
            }
            let loss = epochLoss / Float(batches)
            guard loss.isFinite else {
                throw InferenceError(.invalidInput, "training diverged at epoch \(epoch) (loss \(loss))")
            }
            history.losses.append(loss)
            var valLoss: Float?
            if let validation, let validationInputs {
                let v = try validationLoss(network, validation, inputs: validationInputs)
                valLoss = v
                history.validationLosses.append(v)
                if v < bestLoss {
                    bestLoss = v
                    best = network.parameters
                    history.bestEpoch = epoch
                    sinceBest = 0
                } else {
                    sinceBest += 1
                }
            } else {
                history.bestEpoch = epoch
            }
            if let progress, !progress(epoch, loss, valLoss) { break }
            if let patience = options.patience, validation != nil, sinceBest >= patience { break }
        }
        if validation != nil { network.parameters = best }
        return history
    }

    /// MSE of `network` on `samples` (inputs already time-major).
    package static func validationLoss(_ network: LSTMNetwork, _ samples: LSTMSamples, inputs: [Float]) throws -> Float
    {
        let out = try network.predict(inputs, batch: samples.count, steps: samples.steps)
        var s: Float = 0
        for j in 0..<out.count {
            let e = out[j] - samples.targets[j]
            s += e * e
        }
        return s / Float(max(1, out.count))
    }
}
