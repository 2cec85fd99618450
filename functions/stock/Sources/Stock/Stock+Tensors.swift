import MSCRFunctions

/// The stock function's V2 tensors: `window` FP32 `[-1, window, columns]` (raw Open, High, Low,
/// Volume, Close rows, oldest first) → `close` FP32 `[-1, 1]` (each window's next close, in
/// dollars). The window length and column count are the loaded model's; before a load, requests
/// are checked against the window length `mscr train stock` uses (7).
extension Stock {
    /// The window length of the models `mscr train stock` makes (what a cold function reports).
    public static var defaultWindow: Int { 7 }

    /// `window` FP32 `[-1, 7, 5]`.
    public static var inputTensors: [TensorDescriptor] {
        [TensorDescriptor("window", .fp32, [-1, defaultWindow, PriceSeries.columns.count])]
    }

    /// `close` FP32 `[-1, 1]`.
    public static var outputTensors: [TensorDescriptor] { [TensorDescriptor("close", .fp32, [-1, 1])] }

    /// True: each model has its own window length.
    public static var tensorShapesVaryByModel: Bool { true }

    /// `window` FP32 `[-1, model.window, model.columns.count]`.
    public static func inputTensors(for model: RegressorModel) -> [TensorDescriptor] {
        [TensorDescriptor("window", .fp32, [-1, model.window, model.columns.count])]
    }

    /// Predicts the next close of every window (finite values only); a prediction that is not
    /// finite is `.unprocessable`.
    public func infer(_ tensors: TensorInputs, model: RegressorModel, context: FunctionContext) throws
        -> [NamedTensor]
    {
        let input = try tensors.tensor("window")
        guard case .fp32(let values) = input.elements, input.shape.count == 3 else {
            throw FunctionFailure.invalidInput(
                "input 'window' must be FP32 [-1, \(model.window), \(model.columns.count)]")
        }
        let (batch, rows, columns) = (input.shape[0], input.shape[1], input.shape[2])
        guard values.allSatisfy(\.isFinite) else {
            throw FunctionFailure.invalidInput("input 'window' contains NaN or infinity")
        }
        let windows = (0..<batch).map { b in
            (0..<rows).map { r in
                let start = (b * rows + r) * columns
                return values[start..<(start + columns)].map(Double.init)
            }
        }
        let closes = try model.predict(windows: windows).map(Float.init)
        guard closes.count == batch else {
            throw FunctionFailure.internal("the model returned \(closes.count) predictions for \(batch) windows")
        }
        guard closes.allSatisfy(\.isFinite) else {
            throw FunctionFailure.unprocessable(
                "the prediction is not a finite number (input values out of range?)")
        }
        return [try NamedTensor(name: "close", shape: [batch, 1], elements: .fp32(closes))]
    }
}
