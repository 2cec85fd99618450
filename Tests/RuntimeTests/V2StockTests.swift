import Foundation
import Functions
import Hummingbird
import HummingbirdTesting
import Inference
import Logging
import ObjectStore
import Runtime
import Stock
import Testing

/// The stock tensor adapter on seeded (untrained) models: every window's `close` equals the
/// native forecast of the same day, and a model's own window length shows in its metadata.
@Suite("V2 protocol: stock windows (router level)")
struct V2StockTests {
    static func model(window: Int) throws -> LSTMRegressor {
        let rows: [[Double]] = [[500, 510, 490, 1_000_000, 505], [900, 910, 890, 9_000_000, 905]]
        let net = try LSTMNetwork.kerasInitialized(inputSize: 5, units: [3], activation: .tanh, seed: 11)
        return try LSTMRegressor(
            network: net, features: .minMax(try MinMaxScaler.fit(rows)), window: window, columns: StockSeries.columns,
            targetColumn: 4)
    }

    /// Seeded rows, oldest first, exactly representable in FP32 (quarters, whole volumes).
    static func rows(_ count: Int, seed: UInt64) -> [[Double]] {
        var g = V2SplitMix(state: seed)
        return (0..<count).map { _ in
            let c = Double(Int.random(in: 2000...3600, using: &g)) / 4
            return [c - 1, c + 2.5, c - 3.25, Double(Int.random(in: 900_000...2_000_000, using: &g)), c]
        }
    }

    @Test("close of each window equals the native forecast", arguments: [(7, 1), (7, 4), (5, 9)])
    func windowsEqualForecast(window: Int, batch: Int) async throws {
        let root = NSTemporaryDirectory() + "mscr-v2-stock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/functions/stock", withIntermediateDirectories: true)
        try #"{"name": "stock", "kind": "lstm-regressor", "model": "stock-lstm"}"#.write(
            toFile: root + "/functions/stock/function.json", atomically: true, encoding: .utf8)
        try ModelRepository(store: FileObjectStore(root: root + "/models")).publish(
            model: "stock-lstm", format: "lstm-regressor",
            files: ["model.json": try Self.model(window: window).encoded()])
        var c = RuntimeConfiguration()
        c.port = 0
        c.functionsDirectory = root + "/functions"
        c.modelRepository = "file://" + root + "/models"
        let server = try MSCRServer(
            configuration: c, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            extraKinds: try TypedFunctionKinds.make([Stock.self]))

        let rows = Self.rows(window + batch - 1, seed: UInt64(window * 100 + batch))
        let windows = (0..<batch).map { Array(rows[$0..<($0 + window)]) }
        let data = windows.flatMap { $0.flatMap { $0 } }.map { String($0) }.joined(separator: ",")
        let body = V2Body.json(
            #"{"inputs": [{"name": "window", "datatype": "FP32", "shape": [\#(batch), \#(window), 5], "data": [\#(data)]}]}"#
        )
        // The native endpoint needs window + 1 rows: give it one more; its first `batch` values
        // are the days the windows predict.
        let native = ByteBuffer(string: #"{"rows": \#(rows + Self.rows(1, seed: 1))}"#)
        try await server.makeApplication(router: server.makeRouter()).test(.router) { client in
            let expected = try await client.execute(
                uri: "/functions/stock", method: .post, headers: [.contentType: "application/json"], body: native)
            #expect(expected.status == .ok, "\(expected.text)")
            let predicted = (expected.json["predictions"] as? [[String: Any]] ?? []).compactMap {
                $0["predicted"] as? Double
            }
            let next = (expected.json["next"] as? [String: Any])?["predicted"] as? Double
            let nativeCloses = Array((predicted + [next ?? .nan]).prefix(batch))
            let r = try await client.execute(uri: "/v2/models/stock/infer", method: .post, body: body)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.v2Outputs["close"]?["shape"] as? [Int] == [batch, 1])
            let closes = r.v2Outputs["close"]?["data"] as? [Double] ?? []
            #expect(closes.count == batch && nativeCloses.count == batch)
            for (v2, n) in zip(closes, nativeCloses) {
                // Native rounds to 4 decimals; V2 answers in FP32.
                #expect(abs(v2 - n) <= 1e-3 + 1e-6 * abs(n), "v2 \(v2) vs native \(n)")
            }
            // Warm: the metadata is the loaded model's, with its own window length.
            try await client.execute(uri: "/v2/models/stock", method: .get) { m in
                #expect((m.json["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1, window, 5])
            }
            if window != 7 {
                // The kind's default window is a shape lie for this model.
                let seven = V2Body.json(
                    #"{"inputs": [{"name": "window", "datatype": "FP32", "shape": [0, 7, 5], "data": []}]}"#)
                try await client.execute(uri: "/v2/models/stock/infer", method: .post, body: seven) { e in
                    #expect(e.status == .badRequest)
                    #expect(e.v2Error?.contains("[-1, \(window), 5]") == true, "\(e.text)")
                }
            }
        }
    }
}
