import Foundation
import Inference
import Testing

@testable import Retraining

/// Training on the real GOOG data. The Inference target is compiled with -Ounchecked even in
/// debug builds, so the full 500-epoch seed recipe takes a few seconds here.
@Suite("Stock trainer on GOOG")
struct StockTrainerTests {
    @Test("--recipe seed reproduces Keras: test RMSE within 10 % of $15.74")
    func seedRecipe() throws {
        let (model, report) = try StockTrainer.train(rows: try googRows(), recipe: .seed)
        #expect(report.rows == 732)
        #expect(report.windows == 725)
        #expect(report.train == 507 && report.test == 218)
        #expect(report.epochsRun == 500)
        #expect(abs(report.naiveRMSE - 8.0016) < 1e-3)
        #expect(report.testRMSE <= 15.74 * 1.1, "seed recipe test RMSE \(report.testRMSE)")
        #expect(report.trainRMSE < report.testRMSE)
        #expect(model.network.units == [1] && model.network.activation == .tanh)
        // The scores in the report are the model's.
        let again = try StockTrainer.rmse(model, rows: try googRows(), days: (732 - 218)..<732)
        #expect(abs(again - report.testRMSE) < 1e-9)
    }

    @Test("the default recipe beats tomorrow = today on the test split")
    func defaultRecipe() throws {
        let (model, report) = try StockTrainer.train(rows: try googRows(), recipe: .default)
        #expect(report.testRMSE < report.naiveRMSE, "default \(report.testRMSE) vs naive \(report.naiveRMSE)")
        #expect(report.testRMSE < 8.0)
        #expect(report.validation > 0 && report.validationRMSE != nil)
        guard case .relative(let f) = model.features else {
            Issue.record("default recipe should use relative features")
            return
        }
        #expect(f.drift > 0)
        // Scalers come from the training rows only: refitting on them gives the same numbers.
        let rows = try googRows()
        let refit = try RelativeFeatures.fit(
            Array(rows[0..<(report.train + 7)]), window: 7, priceColumns: [0, 1, 2, 4], targetColumn: 4)
        #expect(refit == f)
    }

    @Test("same seed, same model; the model file round-trips with its metrics")
    func deterministic() throws {
        let rows = Array(try googRows().prefix(200))
        var recipe = TrainingRecipe.seed
        recipe.epochs = 5
        let a = try StockTrainer.train(rows: rows, recipe: recipe)
        let b = try StockTrainer.train(rows: rows, recipe: recipe)
        #expect(a.model == b.model)
        #expect(a.report.testRMSE == b.report.testRMSE)
        let back = try LSTMRegressor.decode(a.model.encoded())
        #expect(back.metadata.metrics?["test_rmse"] == a.report.testRMSE)
        #expect(back.metadata.recipe == "seed")
    }

    @Test("too few or malformed rows are invalid data")
    func badData() {
        #expect(throws: RetrainingError.self) { try StockTrainer.train(rows: [[1, 2, 3, 4, 5]], recipe: .seed) }
        let rows = (0..<20).map { i in [1.0, 2, 3, 4, Double(i) + 1] } + [[1, 2, 3]]
        #expect(throws: RetrainingError.self) { try StockTrainer.train(rows: rows, recipe: .seed) }
    }
}
