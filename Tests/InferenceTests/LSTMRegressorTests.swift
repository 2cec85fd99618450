import Foundation
import Testing

@testable import Inference

@Suite("LSTM regressor and its model file")
struct LSTMRegressorTests {
    let columns = ["Open", "High", "Low", "Volume", "Close"]

    func minMaxModel(seed: UInt64 = 7) throws -> LSTMRegressor {
        let rows = try googRows()
        let net = try LSTMNetwork.kerasInitialized(inputSize: 5, units: [2], activation: .tanh, seed: seed)
        return try LSTMRegressor(
            network: net, features: .minMax(try MinMaxScaler.fit(rows)), window: 7, columns: columns, targetColumn: 4,
            metadata: .init(recipe: "test", seed: seed, metrics: ["test_rmse": 1.5]))
    }

    @Test("series predictions: one per window plus the forecast, equal to per-window predictions")
    func series() throws {
        let rows = Array(try googRows().prefix(20))
        let model = try minMaxModel()
        let all = try model.predict(series: rows)
        #expect(all.count == 20 - 7 + 1)
        let windows = (0...(20 - 7)).map { Array(rows[$0..<($0 + 7)]) }
        let each = try model.predict(windows: windows)
        for (a, b) in zip(all, each) { #expect(abs(a - b) < 1e-9) }
        // min-max decoding: a tanh output in (-1, 1) maps inside [2 min - max, max] of Close.
        guard case .minMax(let s) = model.features else {
            Issue.record("not minmax")
            return
        }
        #expect(all.allSatisfy { $0 > 2 * s.min[4] - s.max[4] && $0 < s.max[4] })
    }

    @Test("relative features: an all-zero network predicts the last close times (1 + drift)")
    func relativeZero() throws {
        let rows = try googRows()
        let features = try RelativeFeatures.fit(
            Array(rows.prefix(300)), window: 7, priceColumns: [0, 1, 2, 4], targetColumn: 4)
        #expect(features.drift != 0 && abs(features.drift) < 0.01)
        #expect(features.priceScale > 10 && features.logScale > 0)
        let net = try LSTMNetwork(inputSize: 5, units: [4], activation: .linear)
        let model = try LSTMRegressor(
            network: net, features: .relative(features), window: 7, columns: columns, targetColumn: 4)
        let p = try model.predict(series: Array(rows[100..<130]))
        for k in 0..<p.count { #expect(abs(p[k] - rows[100 + k + 6][4] * (1 + features.drift)) < 1e-9) }
        // Training targets invert decoding.
        let samples = model.samples(rows: rows, starts: 100..<110)
        for (n, s) in (100..<110).enumerated() {
            let back = model.features.decode(samples.targets[n], window: rows[s..<(s + 7)], targetColumn: 4)
            #expect(abs(back - rows[s + 7][4]) < 1e-3)
        }
    }

    @Test("bad rows are errors naming the row")
    func badRows() throws {
        let model = try minMaxModel()
        var rows = Array(try googRows().prefix(10))
        #expect(throws: InferenceError.self) { try model.predict(series: Array(rows.prefix(6))) }
        rows[3][2] = .nan
        let error = #expect(throws: InferenceError.self) { try model.predict(series: rows) }
        #expect(error?.message.contains("row 3") == true)
        #expect(throws: InferenceError.self) { try model.predict(windows: [Array(rows.prefix(5))]) }
        #expect(throws: InferenceError.self) { try model.predict(windows: [[[1, 2, 3]] + Array(rows.prefix(6))]) }
    }

    @Test("model.json round-trips exactly", arguments: ["minmax", "relative"])
    func roundTrip(kind: String) throws {
        var model = try minMaxModel()
        if kind == "relative" {
            let f = try RelativeFeatures.fit(try googRows(), window: 7, priceColumns: [0, 1, 2, 4], targetColumn: 4)
            model = try LSTMRegressor(
                network: try LSTMNetwork.kerasInitialized(inputSize: 5, units: [3, 2], activation: .linear, seed: 1),
                features: .relative(f), window: 7, columns: columns, targetColumn: 4)
        }
        let bytes = model.encoded()
        let json = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        #expect(json?["magic"] as? String == "mscr-lstm-regressor")
        #expect(json?["format_version"] as? Int == 1)
        let back = try LSTMRegressor.decode(bytes)
        #expect(back == model)
        let rows = Array(try googRows().prefix(12))
        #expect(try back.predict(series: rows) == model.predict(series: rows))
    }

    func mutated(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var json = try JSONSerialization.jsonObject(with: Data(try minMaxModel().encoded())) as! [String: Any]
        edit(&json)
        return Array(try JSONSerialization.data(withJSONObject: json))
    }

    @Test("a wrong file is a clear InferenceError")
    func invalidFiles() throws {
        func expectError(_ bytes: [UInt8], _ code: InferenceError.Code, _ words: String) {
            do {
                _ = try LSTMRegressor.decode(bytes)
                Issue.record("decoded a bad file (\(words))")
            } catch let e as InferenceError {
                #expect(e.code == code)
                #expect(e.message.contains(words), "\(e.message)")
            } catch { Issue.record("wrong error \(error)") }
        }
        expectError(Array("not json".utf8), .invalidModel, "not a JSON object")
        expectError(try mutated { $0["magic"] = "keras" }, .invalidModel, "magic")
        expectError(try mutated { $0.removeValue(forKey: "magic") }, .invalidModel, "missing")
        expectError(try mutated { $0["format_version"] = 2 }, .invalidModel, "format_version 2")
        expectError(try mutated { $0.removeValue(forKey: "window") }, .invalidModel, "malformed")
        expectError(try mutated { $0["columns"] = ["a", "b"] }, .invalidModel, "columns")
        expectError(
            try mutated {
                var n = $0["network"] as! [String: Any]
                var l = (n["lstm"] as! [[String: Any]])[0]
                l["bias"] = [1, 2, 3]
                n["lstm"] = [l]
                $0["network"] = n
            }, .invalidWeights, "lstm[0].bias")
        expectError(
            try mutated {
                var s = $0["scaler"] as! [String: Any]
                s["kind"] = "zscore"
                $0["scaler"] = s
            }, .invalidModel, "zscore")
        expectError(
            try mutated {
                var n = $0["network"] as! [String: Any]
                n["activation"] = "relu"
                $0["network"] = n
            }, .invalidModel, "relu")
    }
}
