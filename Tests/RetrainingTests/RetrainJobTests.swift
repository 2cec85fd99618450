import Foundation
import Inference
import ObjectStore
import Testing

@testable import Retraining

@Suite("Retrain job: evaluate, then promote")
struct RetrainJobTests {
    /// A quick recipe for tests (few epochs).
    var quick: TrainingRecipe {
        var r = TrainingRecipe.default
        r.epochs = 15
        r.patience = 5
        return r
    }

    @Test("with no serving version the candidate becomes version 1")
    func bootstrap() throws {
        let repo = ModelRepository(store: MemoryObjectStore())
        let report = try RetrainJob(repository: repo, options: .init(recipe: quick)).run(
            rows: try googRows(), source: "goog")
        #expect(report.decision == "published")
        #expect(report.publishedVersion == 1)
        #expect(report.servingVersion == nil && report.servingRMSE == nil)
        let v = try repo.resolve(model: "stock-lstm", version: "latest")
        #expect(v.manifest.format == "lstm-regressor")
        #expect(v.manifest.source == "goog")
        #expect(v.manifest.metrics?["holdout_rmse"] == report.candidateRMSE)
        #expect(try LSTMRegressor.decode(v.read("model.json").bytes).window == 7)
    }

    @Test("a better candidate is published as N+1; an equal one keeps the old version")
    func promoteOrKeep() throws {
        let rows = try googRows()
        let repo = ModelRepository(store: MemoryObjectStore())
        // Serving v1: an untrained seed-recipe network (bad).
        var untrained = TrainingRecipe.seed
        untrained.epochs = 0
        let (bad, _) = try StockTrainer.train(rows: rows, recipe: untrained)
        try repo.publish(model: "stock-lstm", format: "lstm-regressor", files: ["model.json": bad.encoded()])

        let job = RetrainJob(repository: repo, options: .init(recipe: quick))
        let first = try job.run(rows: rows)
        #expect(first.decision == "published")
        #expect(first.servingVersion == 1 && first.publishedVersion == 2)
        #expect(first.candidateRMSE < first.servingRMSE!)
        #expect(try repo.resolve(model: "stock-lstm", version: "2").manifest.parent == 1)

        // Same data, same seed: the candidate equals serving v2, so it does not win.
        let second = try job.run(rows: rows)
        #expect(second.decision == "kept")
        #expect(second.servingVersion == 2 && second.publishedVersion == nil)
        #expect(second.servingRMSE == second.candidateRMSE)
        #expect(try repo.latestVersion(of: "stock-lstm") == 2)
        #expect(second.reason.contains("does not beat"))
    }

    @Test("the margin is relative: a small win below --min-improvement keeps the old version")
    func margin() throws {
        let rows = try googRows()
        let repo = ModelRepository(store: MemoryObjectStore())
        var untrained = TrainingRecipe.seed
        untrained.epochs = 0
        let (bad, _) = try StockTrainer.train(rows: rows, recipe: untrained)
        try repo.publish(model: "stock-lstm", format: "lstm-regressor", files: ["model.json": bad.encoded()])
        let report = try RetrainJob(repository: repo, options: .init(minImprovement: 0.99, recipe: quick)).run(
            rows: rows)
        #expect(report.decision == "kept")
        #expect(report.candidateRMSE < report.servingRMSE!)
        #expect(abs(report.requiredRMSE! - report.servingRMSE! * 0.01) < 1e-9)
        #expect(try repo.versions(of: "stock-lstm") == [1])
        #expect(throws: RetrainingError.self) {
            try RetrainJob(repository: repo, options: .init(minImprovement: 1.5, recipe: quick)).run(rows: rows)
        }
    }

    @Test("a serving version that cannot be loaded is replaced, and the report says why")
    func brokenServing() throws {
        let repo = ModelRepository(store: MemoryObjectStore())
        try repo.publish(model: "stock-lstm", format: "lstm-regressor", files: ["model.json": Array("{}".utf8)])
        let report = try RetrainJob(repository: repo, options: .init(recipe: quick)).run(rows: try googRows())
        #expect(report.decision == "published" && report.publishedVersion == 2)
        #expect(report.reason.contains("cannot be scored"))
    }

    @Test("an imported ONNX model is never retrained into a native one: the job refuses and publishes nothing")
    func onnxServingIsRefused() throws {
        let repo = ModelRepository(store: MemoryObjectStore())
        try repo.publish(
            model: "stock-lstm", format: "onnx",
            files: ["model.onnx": [1, 2, 3], "scaler.json": Array("{}".utf8)])
        let error = try #require(throws: RetrainingError.self) {
            try RetrainJob(repository: repo, options: .init(recipe: quick)).run(rows: try googRows())
        }
        #expect(error.code == .unsupportedModel && error.message.contains("ONNX"))
        #expect(try repo.versions(of: "stock-lstm") == [1])
    }

    @Test("the report is JSON with both scores and the decision")
    func reportJSON() throws {
        let repo = ModelRepository(store: MemoryObjectStore())
        let report = try RetrainJob(repository: repo, options: .init(recipe: quick)).run(rows: try googRows())
        let o = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        for key in [
            "decision", "reason", "candidate_rmse", "naive_rmse", "holdout_days", "training", "min_improvement",
        ] {
            #expect(o?[key] != nil, "missing \(key)")
        }
        #expect((o?["training"] as? [String: Any])?["test_rmse"] != nil)
    }
}
