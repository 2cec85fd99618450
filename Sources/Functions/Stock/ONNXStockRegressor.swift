import Common
import Inference
import ONNX

/// A stock regressor exported to ONNX (e.g. the original stack's Keras LSTM converted with
/// tf2onnx) with the min-max scaler it was trained with. The graph takes one FP32 input
/// `[batch, window, columns]` of scaled rows and gives one scaled close per window (`[batch, 1]`
/// or `[batch]`); the scaler maps raw rows in and the close back to dollars, exactly as the
/// original stack's `app.py` does. Immutable and shared.
package struct ONNXStockRegressor: StockRegressor {
    /// The file holding the graph.
    package static let modelFileName = "model.onnx"
    /// The scaler file (`scaler.json`, as the original stack's `train.py` writes it):
    ///
    /// ```json
    /// {"min": [o, h, l, v, c], "max": [o, h, l, v, c],
    ///  "columns": ["Open", "High", "Low", "Volume", "Close"], "window": 7, "target": "Close"}
    /// ```
    ///
    /// `min`/`max` are required (one per column); `columns` defaults to those five, `window` to
    /// the graph input's axis 1, `target` (a column name or index) to `Close`, else the last column.
    package static let scalerFileName = "scaler.json"
    /// Windows per graph call when the graph's batch is symbolic.
    package static let importBatch = 64

    let network: ONNXNetwork
    let scaler: MinMaxScaler
    package let window: Int
    package let columns: [String]
    let targetColumn: Int
    /// Windows per graph call (the graph's batch after import).
    let batch: Int

    /// Imports `model` (an ONNX graph) with `scaler` (scaler.json bytes), checking they fit.
    package init(model: [UInt8], scaler scalerBytes: [UInt8]) throws {
        let network: ONNXNetwork
        do {
            network = try ONNXImporter.load(model, batch: Self.importBatch)
        } catch let error as ONNXError {
            throw InferenceError(.invalidModel, "model.onnx: \(error.message)")
        }
        try self.init(network: network, scaler: scalerBytes)
    }

    /// `network` (imported, or mapped from a compiled artifact, with a symbolic batch of
    /// ``importBatch``) with `scaler` (scaler.json bytes), checking they fit.
    package init(network: ONNXNetwork, scaler scalerBytes: [UInt8]) throws {
        guard network.inputs.count == 1, network.outputs.count == 1, network.inputs[0].shape.count == 3 else {
            throw InferenceError(
                .invalidModel,
                "model.onnx must take one [batch, window, columns] input and give one output; it has inputs \(network.inputs) and outputs \(network.outputs)"
            )
        }
        let shape = network.inputs[0].shape
        let batch = shape[0]
        guard network.outputs[0].shape.reduce(1, *) == batch else {
            throw InferenceError(
                .invalidModel,
                "model.onnx output \(network.outputs[0]) must hold one value per window (\(batch) windows per call)")
        }
        let parsed = try Self.parseScaler(scalerBytes, columns: shape[2])
        if let w = parsed.window, w != shape[1] {
            throw InferenceError(.invalidModel, "scaler.json says window \(w), but model.onnx takes \(shape[1]) rows")
        }
        self.network = network
        self.scaler = parsed.scaler
        self.window = shape[1]
        self.columns = parsed.columns
        self.targetColumn = parsed.target
        self.batch = batch
    }

    package func predict(windows: [[[Double]]]) throws -> [Double] {
        for (n, w) in windows.enumerated() {
            guard w.count == window else {
                throw InferenceError(.shapeMismatch, "window \(n) has \(w.count) rows, the model takes \(window)")
            }
            try check(w[...], offset: 0)
        }
        return try run(count: windows.count) { windows[$0][...] }
    }

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

    /// Scales `count` windows, runs them `batch` at a time (the last call padded with copies of
    /// its first window) and unscales the target.
    private func run(count: Int, window slice: (Int) -> ArraySlice<[Double]>) throws -> [Double] {
        let width = columns.count
        let perWindow = window * width
        let name = network.inputs[0].name
        var out: [Double] = []
        out.reserveCapacity(count)
        var start = 0
        while start < count {
            let n = min(batch, count - start)
            var feed = [Float](repeating: 0, count: batch * perWindow)
            for b in 0..<batch {
                let rows = slice(start + (b < n ? b : 0))
                for (t, row) in rows.enumerated() {
                    for j in 0..<width { feed[b * perWindow + t * width + j] = Float(scaler.scale(row[j], column: j)) }
                }
            }
            let result: [Float]
            do {
                result = try network.run([name: feed])[0]
            } catch let error as ONNXError {
                throw InferenceError(.invalidInput, error.message)
            }
            for b in 0..<n { out.append(scaler.unscale(Double(result[b]), column: targetColumn)) }
            start += n
        }
        return out
    }

    /// Reads scaler.json (see `scalerFileName`) for a graph taking `columns` values per row.
    static func parseScaler(_ bytes: [UInt8], columns count: Int) throws -> (
        scaler: MinMaxScaler, columns: [String], window: Int?, target: Int
    ) {
        let object: JSONValue
        do {
            object = try JSONValue.parse(bytes, maxDepth: 8)
        } catch {
            throw InferenceError(.invalidModel, "scaler.json is not valid JSON: \(error)")
        }
        guard object.members != nil else { throw InferenceError(.invalidModel, "scaler.json must be a JSON object") }
        func numbers(_ key: String) throws -> [Double] {
            guard let list = object[key]?.elements, list.count == count else {
                throw InferenceError(
                    .invalidModel, "scaler.json needs \"\(key)\": \(count) numbers (one per column of model.onnx)")
            }
            return try list.map {
                guard let v = $0.doubleValue else {
                    throw InferenceError(.invalidModel, "scaler.json \"\(key)\" holds a non-number")
                }
                return v
            }
        }
        let scaler = try MinMaxScaler(min: try numbers("min"), max: try numbers("max"))
        var columns = ["Open", "High", "Low", "Volume", "Close"]
        if let given = object["columns"] {
            let names = given.elements?.compactMap(\.stringValue)
            guard let names, names.count == count, given.elements?.count == count else {
                throw InferenceError(.invalidModel, "scaler.json \"columns\" must be \(count) names")
            }
            columns = names
        } else if count != columns.count {
            columns = (0..<count).map { "column \($0)" }
        }
        var window: Int?
        if let w = object["window"] {
            guard let w = w.intValue, w >= 1 else {
                throw InferenceError(.invalidModel, "scaler.json \"window\" must be a positive integer")
            }
            window = w
        }
        var target = columns.firstIndex(of: "Close") ?? count - 1
        switch object["target"] {
        case nil: break
        case .string(let name)?:
            guard let i = columns.firstIndex(of: name) else {
                throw InferenceError(.invalidModel, "scaler.json \"target\" '\(name)' is not one of \(columns)")
            }
            target = i
        case let value?:
            guard let i = value.intValue, i >= 0, i < count else {
                throw InferenceError(.invalidModel, "scaler.json \"target\" must be a column name or index")
            }
            target = i
        }
        return (scaler, columns, window, target)
    }
}
