import Inference

/// How to train the stock regressor: architecture, features, optimiser and split.
package struct TrainingRecipe: Sendable, Equatable {
    /// How rows become features.
    package enum Features: String, Sendable {
        /// Min-max scaling fitted on the whole series (the original recipe's leak, kept on purpose
        /// so `--recipe seed` reproduces it).
        case minMaxWholeSeries = "minmax-whole-series"
        /// `RelativeFeatures` fitted on the training rows only.
        case relative
    }

    package var name: String
    /// Units of each stacked LSTM layer.
    package var units: [Int]
    package var epochs: Int
    package var learningRate: Float
    package var batchSize: Int
    /// Rows per window.
    package var window: Int
    package var seed: UInt64
    package var features: Features
    package var activation: LSTMNetwork.Activation
    /// Start the Dense head at zero, so the untrained model predicts "no change" (with
    /// relative features: tomorrow = today).
    package var zeroHead: Bool
    /// Fraction of the windows (the most recent) held out for the test score.
    package var testFraction: Double
    /// Fraction of the training windows (the most recent) carved off for early stopping.
    package var validationFraction: Double
    /// Early-stopping patience in epochs (with a validation split).
    package var patience: Int?

    package init(
        name: String, units: [Int], epochs: Int, learningRate: Float, batchSize: Int = 32, window: Int = 7,
        seed: UInt64, features: Features, activation: LSTMNetwork.Activation, zeroHead: Bool,
        testFraction: Double = 0.3, validationFraction: Double = 0, patience: Int? = nil
    ) {
        self.name = name
        self.units = units
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.window = window
        self.seed = seed
        self.features = features
        self.activation = activation
        self.zeroHead = zeroHead
        self.testFraction = testFraction
        self.validationFraction = validationFraction
        self.patience = patience
    }

    /// The original recipe, exactly (`paperstack/train.py`): min-max scaling of the whole
    /// series, windows of 7 → next close, 70/30 chronological split, `LSTM(1)` +
    /// `Dense(1, tanh)`, MSE, Adam lr 0.01, 500 epochs, batch 32, shuffled each epoch, seed 7.
    package static let seed = TrainingRecipe(
        name: "seed", units: [1], epochs: 500, learningRate: 0.01, seed: 7, features: .minMaxWholeSeries,
        activation: .tanh, zeroHead: false)

    /// Our recipe: scale-free features (prices relative to the last close, volume as a log
    /// ratio to its window mean) fitted on the training rows only; the target is the next
    /// close's relative change; `LSTM(16)` + linear Dense starting at zero (so training starts
    /// from "tomorrow = today"); Adam lr 0.001; early stopping with patience 40 on the most
    /// recent 20 % of the training windows, keeping the best weights. The test split is never
    /// looked at while fitting.
    package static let `default` = TrainingRecipe(
        name: "default", units: [16], epochs: 400, learningRate: 0.001, seed: 7, features: .relative,
        activation: .linear, zeroHead: true, validationFraction: 0.2, patience: 40)

    /// The recipe called `name` (`seed` or `default`).
    package static func named(_ name: String) -> TrainingRecipe? {
        switch name {
        case "seed": .seed
        case "default": .default
        default: nil
        }
    }
}
