import FoundationEssentials
import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `lstm-regressor` model file, `model.json` (format version 1):
///
/// ```json
/// { "magic": "mscr-lstm-regressor", "format_version": 1,
///   "columns": ["Open", "High", "Low", "Volume", "Close"], "target_column": 4, "window": 7,
///   "scaler": { "kind": "minmax", "min": [5 numbers], "max": [5 numbers] }
///          or { "kind": "relative", "price_columns": [0, 1, 2, 4], "price_scale": 58.1,
///               "log_scale": 2.3, "target_scale": 58.1, "drift": 0.0009 },
///   "network": { "input_size": 5, "activation": "tanh" | "linear",
///     "lstm": [ { "units": 1, "kernel": [[4u]; input], "recurrent_kernel": [[4u]; u], "bias": [4u] } ],
///     "dense": { "units": 1, "kernel": [[outputs]; u], "bias": [outputs] } },
///   "metadata": { "recipe": "seed", "seed": 7, "epochs": 500, "metrics": { … } } }
/// ```
///
/// Weights are in Keras's shapes and gate order (`i, f, c, o`), so a Keras model's
/// `get_weights()` maps onto this file one to one.
extension LSTMRegressor {
    /// The file's magic string.
    package static let magic = "mscr-lstm-regressor"
    /// The only format version this build reads and writes.
    package static let formatVersion = 1
    /// The file name inside a model version.
    package static let fileName = "model.json"

    struct FileScaler: Codable {
        var kind: String
        var min: [Double]?
        var max: [Double]?
        var price_columns: [Int]?
        var price_scale: Double?
        var log_scale: Double?
        var target_scale: Double?
        var drift: Double?
    }

    struct FileLSTM: Codable {
        var units: Int
        var kernel: [[Float]]
        var recurrent_kernel: [[Float]]
        var bias: [Float]
    }

    struct FileDense: Codable {
        var units: Int
        var kernel: [[Float]]
        var bias: [Float]
    }

    struct FileNetwork: Codable {
        var input_size: Int
        var activation: String
        var lstm: [FileLSTM]
        var dense: FileDense
    }

    struct File: Codable {
        var magic: String
        var format_version: Int
        var columns: [String]
        var target_column: Int
        var window: Int
        var scaler: FileScaler
        var network: FileNetwork
        var metadata: Metadata?
    }

    /// Probe decoded first so a wrong file says "not our format" before "missing key".
    private struct Header: Decodable {
        var magic: String?
        var format_version: Int?
    }

    /// Encodes the model as `model.json` bytes.
    package func encoded() -> [UInt8] {
        var finiteMetadata = metadata
        finiteMetadata.metrics = metadata.metrics?.filter { $0.value.isFinite }
        let p = network.parameters
        func matrix(_ offset: Int, rows: Int, cols: Int) -> [[Float]] {
            (0..<rows).map { r in Array(p[(offset + r * cols)..<(offset + (r + 1) * cols)]) }
        }
        let lstm = network.layers.map { l in
            FileLSTM(
                units: l.units, kernel: matrix(l.kernel, rows: l.inputSize, cols: 4 * l.units),
                recurrent_kernel: matrix(l.recurrent, rows: l.units, cols: 4 * l.units),
                bias: Array(p[l.bias..<(l.bias + 4 * l.units)]))
        }
        let top = network.units[network.units.count - 1]
        let dense = FileDense(
            units: network.outputs, kernel: matrix(network.denseKernel, rows: top, cols: network.outputs),
            bias: Array(p[network.denseBias..<(network.denseBias + network.outputs)]))
        let scaler: FileScaler
        switch features {
        case .minMax(let s):
            scaler = FileScaler(kind: "minmax", min: s.min, max: s.max)
        case .relative(let r):
            scaler = FileScaler(
                kind: "relative", price_columns: r.priceColumns, price_scale: r.priceScale, log_scale: r.logScale,
                target_scale: r.targetScale, drift: r.drift)
        }
        let file = File(
            magic: Self.magic, format_version: Self.formatVersion, columns: columns, target_column: targetColumn,
            window: window, scaler: scaler,
            network: FileNetwork(
                input_size: network.inputSize, activation: network.activation.rawValue, lstm: lstm, dense: dense),
            metadata: finiteMetadata)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Plain numbers and strings (all finite, checked at construction) cannot fail to encode.
        return Array((try? encoder.encode(file)) ?? Data())
    }

    /// Decodes and validates `model.json` bytes. Every mismatch is an `InferenceError`
    /// (`invalidModel` for the container, `invalidWeights` for tensor shapes) naming what is wrong.
    package static func decode(_ bytes: [UInt8]) throws -> LSTMRegressor {
        let data = Data(bytes)
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw InferenceError(.invalidModel, "\(fileName) is not a JSON object")
        }
        guard header.magic == magic else {
            throw InferenceError(
                .invalidModel,
                "\(fileName) magic is \(header.magic.map { "'\($0)'" } ?? "missing"), expected '\(magic)'")
        }
        guard header.format_version == formatVersion else {
            throw InferenceError(
                .invalidModel,
                "\(fileName) format_version \(header.format_version.map(String.init) ?? "missing") is not supported (this build reads \(formatVersion))"
            )
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw InferenceError(.invalidModel, "\(fileName) is malformed: \(error)")
        }
        guard let activation = LSTMNetwork.Activation(rawValue: file.network.activation) else {
            throw InferenceError(
                .invalidModel, "unknown Dense activation '\(file.network.activation)' (tanh or linear)")
        }
        guard !file.network.lstm.isEmpty else { throw InferenceError(.invalidModel, "\(fileName) has no LSTM layer") }
        let net = try LSTMNetwork(
            inputSize: file.network.input_size, units: file.network.lstm.map(\.units),
            outputs: file.network.dense.units,
            activation: activation)
        var params: [Float] = []
        params.reserveCapacity(net.parameterCount)
        func append(_ m: [[Float]], rows: Int, cols: Int, _ what: String) throws {
            guard m.count == rows, m.allSatisfy({ $0.count == cols }) else {
                throw InferenceError(
                    .invalidWeights, "\(what) must be \(rows) x \(cols), got \(m.count) x \(m.first?.count ?? 0)")
            }
            for row in m { params.append(contentsOf: row) }
        }
        for (i, (layer, fl)) in zip(net.layers, file.network.lstm).enumerated() {
            try append(fl.kernel, rows: layer.inputSize, cols: 4 * layer.units, "lstm[\(i)].kernel")
            try append(fl.recurrent_kernel, rows: layer.units, cols: 4 * layer.units, "lstm[\(i)].recurrent_kernel")
            try append([fl.bias], rows: 1, cols: 4 * layer.units, "lstm[\(i)].bias")
        }
        let top = net.units[net.units.count - 1]
        try append(file.network.dense.kernel, rows: top, cols: net.outputs, "dense.kernel")
        try append([file.network.dense.bias], rows: 1, cols: net.outputs, "dense.bias")
        let network = try LSTMNetwork(
            inputSize: net.inputSize, units: net.units, outputs: net.outputs, activation: activation, parameters: params
        )
        let features: SeriesFeatures
        switch file.scaler.kind {
        case "minmax":
            guard let lo = file.scaler.min, let hi = file.scaler.max else {
                throw InferenceError(.invalidModel, "a minmax scaler needs 'min' and 'max'")
            }
            features = .minMax(try MinMaxScaler(min: lo, max: hi))
        case "relative":
            guard let cols = file.scaler.price_columns, let ps = file.scaler.price_scale,
                let ls = file.scaler.log_scale,
                let ts = file.scaler.target_scale
            else {
                throw InferenceError(
                    .invalidModel,
                    "a relative scaler needs 'price_columns', 'price_scale', 'log_scale' and 'target_scale'")
            }
            features = .relative(
                try RelativeFeatures(
                    priceColumns: cols, priceScale: ps, logScale: ls, targetScale: ts, drift: file.scaler.drift ?? 0))
        default:
            throw InferenceError(.invalidModel, "unknown scaler kind '\(file.scaler.kind)' (minmax or relative)")
        }
        return try LSTMRegressor(
            network: network, features: features, window: file.window, columns: file.columns,
            targetColumn: file.target_column, metadata: file.metadata ?? Metadata())
    }
}
