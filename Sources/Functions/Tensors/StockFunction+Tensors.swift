extension StockFunction: TensorFunction {
    /// The window length of the models `mscr train stock` makes (the static signature's).
    package static let defaultWindow = 7

    /// `window` FP32 [-1, window, columns] (raw Open, High, Low, Volume, Close rows, oldest
    /// first) → `close` FP32 [-1, 1] (each window's next close, in dollars).
    package static func tensorSignature(window: Int, columns: Int) -> TensorSignature {
        TensorSignature(
            platform: "lstm-regressor",
            inputs: [TensorSpec("window", .fp32, [-1, window, columns])],
            outputs: [TensorSpec("close", .fp32, [-1, 1])], sizesVaryByModel: true)
    }

    /// The signature of this model (its own window length and column count).
    package var tensorSignature: TensorSignature {
        Self.tensorSignature(window: windowLength, columns: regressor.columns.count)
    }

    /// Predicts the next close of every window of `window` (finite values only); a model
    /// output that is not finite is `unprocessable`.
    package func infer(_ request: TensorRequest) throws -> [Tensor] {
        let input = try request.input("window")
        guard case .fp32(let values) = input.data, input.shape.count == 3 else {
            throw FunctionError(
                .invalidInput, "input 'window' must be FP32 [-1, \(windowLength), \(regressor.columns.count)]")
        }
        let (batch, rows, columns) = (input.shape[0], input.shape[1], input.shape[2])
        guard values.allSatisfy(\.isFinite) else {
            throw FunctionError(.invalidInput, "input 'window' contains NaN or infinity")
        }
        var windows: [[[Float]]] = []
        windows.reserveCapacity(batch)
        for b in 0..<batch {
            var window: [[Float]] = []
            window.reserveCapacity(rows)
            for r in 0..<rows {
                let start = (b * rows + r) * columns
                window.append(Array(values[start..<(start + columns)]))
            }
            windows.append(window)
        }
        let closes = try predict(windows: windows)
        guard closes.count == batch else {
            throw FunctionError(.internal, "the model returned \(closes.count) predictions for \(batch) windows")
        }
        guard closes.allSatisfy(\.isFinite) else {
            throw FunctionError(.unprocessable, "the prediction is not a finite number (input values out of range?)")
        }
        return [try Tensor(name: "close", shape: [batch, 1], data: .fp32(closes))]
    }
}
