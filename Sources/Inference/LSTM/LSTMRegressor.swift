/// A trained sequence regressor: a window of `window` raw rows (oldest first, `columns`
/// wide) → the next value of `targetColumn`, in the data's own units. What the
/// `lstm-regressor` model file holds (see `LSTMRegressor+File.swift`). Immutable and shared.
package struct LSTMRegressor: Sendable, Equatable {
    /// Free-form facts about how the model was made, kept in the file.
    package struct Metadata: Codable, Sendable, Equatable {
        package var recipe: String?
        package var seed: UInt64?
        package var epochs: Int?
        package var rows: Int?
        package var source: String?
        package var metrics: [String: Double]?

        package init(
            recipe: String? = nil, seed: UInt64? = nil, epochs: Int? = nil, rows: Int? = nil,
            source: String? = nil, metrics: [String: Double]? = nil
        ) {
            self.recipe = recipe
            self.seed = seed
            self.epochs = epochs
            self.rows = rows
            self.source = source
            self.metrics = metrics
        }
    }

    package var network: LSTMNetwork
    package var features: SeriesFeatures
    /// Rows per window (time steps).
    package var window: Int
    /// Column names, in input order.
    package var columns: [String]
    /// The column predicted (index into `columns`).
    package var targetColumn: Int
    package var metadata: Metadata

    /// Checks that the parts agree with each other.
    package init(
        network: LSTMNetwork, features: SeriesFeatures, window: Int, columns: [String], targetColumn: Int,
        metadata: Metadata = Metadata()
    ) throws {
        guard window >= 1, window <= 10_000 else {
            throw InferenceError(.invalidModel, "window must be 1...10000, not \(window)")
        }
        guard columns.count == network.inputSize else {
            throw InferenceError(
                .invalidModel, "the model has \(columns.count) columns but its LSTM takes \(network.inputSize) inputs")
        }
        guard targetColumn >= 0, targetColumn < columns.count else {
            throw InferenceError(.invalidModel, "target column \(targetColumn) is outside the \(columns.count) columns")
        }
        guard network.outputs == 1 else {
            throw InferenceError(.invalidModel, "a regressor has one output, not \(network.outputs)")
        }
        switch features {
        case .minMax(let s):
            guard s.columns == columns.count else {
                throw InferenceError(.invalidModel, "the scaler has \(s.columns) columns, the model \(columns.count)")
            }
        case .relative(let r):
            guard r.priceColumns.allSatisfy({ $0 >= 0 && $0 < columns.count }), r.priceColumns.contains(targetColumn)
            else {
                throw InferenceError(
                    .invalidModel,
                    "relative features need price columns inside 0..<\(columns.count) including the target")
            }
        }
        self.network = network
        self.features = features
        self.window = window
        self.columns = columns
        self.targetColumn = targetColumn
        self.metadata = metadata
    }

    /// The next target value after each window. Each window is `window` rows of `columns`
    /// raw values, oldest first. Batched: one forward pass for all windows.
    package func predict(windows: [[[Double]]]) throws -> [Double] {
        guard !windows.isEmpty else { return [] }
        for (n, w) in windows.enumerated() {
            guard w.count == window else {
                throw InferenceError(.shapeMismatch, "window \(n) has \(w.count) rows, the model takes \(window)")
            }
            try check(w[...], offset: 0)
        }
        return try run(count: windows.count) { windows[$0][...] }
    }

    /// Predictions for every window of a series (oldest first): element `k` predicts row
    /// `k + window` from rows `k ..< k + window`; the last one is past the end of the series
    /// (the forecast). Returns `rows.count - window + 1` values.
    package func predict(series rows: [[Double]]) throws -> [Double] {
        guard rows.count >= window else {
            throw InferenceError(.invalidInput, "need at least \(window) rows, got \(rows.count)")
        }
        try check(rows[...], offset: 0)
        return try run(count: rows.count - window + 1) { rows[$0..<($0 + window)] }
    }

    private func check(_ rows: ArraySlice<[Double]>, offset: Int) throws {
        for (i, row) in rows.enumerated() {
            guard row.count == columns.count else {
                throw InferenceError(
                    .shapeMismatch, "row \(offset + i) has \(row.count) values, the model takes \(columns.count)")
            }
            guard row.allSatisfy(\.isFinite) else {
                throw InferenceError(.invalidInput, "row \(offset + i) contains NaN or infinity")
            }
        }
    }

    private func run(count: Int, window slice: (Int) -> ArraySlice<[Double]>) throws -> [Double] {
        let inputs = encodeTimeMajor(count: count, window: slice)
        let outputs = try network.predict(inputs, batch: count, steps: window)
        return (0..<count).map { features.decode(outputs[$0], window: slice($0), targetColumn: targetColumn) }
    }

    /// The features of `count` windows, time-major: [window, count, columns].
    package func encodeTimeMajor(count: Int, window slice: (Int) -> ArraySlice<[Double]>) -> [Float] {
        let width = columns.count
        var inputs = [Float](repeating: 0, count: window * count * width)
        inputs.withUnsafeMutableBufferPointer { buf in
            for n in 0..<count {
                features.encode(
                    slice(n), targetColumn: targetColumn, into: buf.baseAddress! + n * width, stride: count * width)
            }
        }
        return inputs
    }

    /// Training samples for the windows starting at `starts`: inputs [count, window, columns]
    /// (sample-major) and each window's target (the next row's target column).
    package func samples(rows: [[Double]], starts: Range<Int>) -> LSTMSamples {
        let width = columns.count
        var inputs = [Float](repeating: 0, count: starts.count * window * width)
        var targets = [Float](repeating: 0, count: starts.count)
        inputs.withUnsafeMutableBufferPointer { buf in
            for (n, s) in starts.enumerated() {
                let w = rows[s..<(s + window)]
                features.encode(
                    w, targetColumn: targetColumn, into: buf.baseAddress! + n * window * width, stride: width)
                targets[n] = features.target(window: w, next: rows[s + window], targetColumn: targetColumn)
            }
        }
        return LSTMSamples(
            count: starts.count, steps: window, inputSize: width, outputs: 1, inputs: inputs, targets: targets)
    }
}
