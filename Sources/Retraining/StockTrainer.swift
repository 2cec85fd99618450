import Dispatch
import FoundationEssentials
import Inference

/// What `mscr train stock` prints: scores in dollars after inverse scaling.
package struct TrainingReport: Codable, Sendable, Equatable {
    package var recipe: String
    package var units: [Int]
    package var epochs: Int
    package var epochsRun: Int
    package var bestEpoch: Int
    package var learningRate: Double
    package var batchSize: Int
    package var window: Int
    package var seed: UInt64
    package var rows: Int
    package var windows: Int
    package var train: Int
    package var validation: Int
    package var test: Int
    package var trainRMSE: Double
    package var validationRMSE: Double?
    package var testRMSE: Double
    /// "Tomorrow's close = today's close" on the same test days.
    package var naiveRMSE: Double
    /// Mean training loss of the last epoch (scaled units).
    package var finalLoss: Double?
    package var seconds: Double

    enum CodingKeys: String, CodingKey {
        case recipe, units, epochs, window, seed, rows, windows, train, validation, test, seconds
        case epochsRun = "epochs_run"
        case bestEpoch = "best_epoch"
        case learningRate = "learning_rate"
        case batchSize = "batch_size"
        case trainRMSE = "train_rmse"
        case validationRMSE = "validation_rmse"
        case testRMSE = "test_rmse"
        case naiveRMSE = "naive_rmse"
        case finalLoss = "final_loss"
    }
}

/// Trains and scores the stock regressor on rows of `Open, High, Low, Volume, Close`, oldest first.
package enum StockTrainer {
    /// The columns of the stock series, in order.
    package static let columns = ["Open", "High", "Low", "Volume", "Close"]
    /// The predicted column (Close).
    package static let targetColumn = 4
    /// The price columns (everything but Volume).
    package static let priceColumns = [0, 1, 2, 4]

    /// Called after each epoch with (epoch, loss, validation loss); return false to stop.
    package typealias Progress = @Sendable (Int, Float, Float?) -> Bool

    /// Trains with `recipe` on the windows before the test split (the most recent
    /// `recipe.testFraction` of the windows, as the original's `int(len(X) * 0.7)`), and
    /// scores train, validation, test and the naive baseline.
    package static func train(
        rows: [[Double]], recipe: TrainingRecipe, source: String? = nil, progress: Progress? = nil
    ) throws -> (model: LSTMRegressor, report: TrainingReport) {
        let start = DispatchTime.now().uptimeNanoseconds
        let w = recipe.window
        guard w >= 1, rows.count >= w + 3 else {
            throw RetrainingError(
                .invalidData, "need at least \(w + 3) rows to train with a window of \(w), got \(rows.count)")
        }
        for (i, row) in rows.enumerated() where row.count != columns.count || !row.allSatisfy(\.isFinite) {
            throw RetrainingError(.invalidData, "row \(i) must be \(columns.count) finite numbers")
        }
        let windows = rows.count - w
        let nTrain = max(1, min(windows - 1, Int(Double(windows) * (1 - recipe.testFraction))))
        let nFit =
            recipe.validationFraction > 0
            ? max(1, min(nTrain - 1, Int(Double(nTrain) * (1 - recipe.validationFraction)))) : nTrain
        let features: SeriesFeatures
        do {
            switch recipe.features {
            case .minMaxWholeSeries:
                features = .minMax(try MinMaxScaler.fit(rows))
            case .relative:
                features = .relative(
                    try RelativeFeatures.fit(
                        Array(rows[0..<(nFit + w)]), window: w, priceColumns: priceColumns, targetColumn: targetColumn))
            }
            var network = try LSTMNetwork.kerasInitialized(
                inputSize: columns.count, units: recipe.units, activation: recipe.activation, seed: recipe.seed)
            if recipe.zeroHead {
                for j in network.denseKernel..<network.parameterCount { network.parameters[j] = 0 }
            }
            var model = try LSTMRegressor(
                network: network, features: features, window: w, columns: columns, targetColumn: targetColumn)
            let fitSamples = model.samples(rows: rows, starts: 0..<nFit)
            let validation = nFit < nTrain ? model.samples(rows: rows, starts: nFit..<nTrain) : nil
            let options = LSTMTrainingOptions(
                epochs: recipe.epochs, batchSize: recipe.batchSize, learningRate: recipe.learningRate, shuffle: true,
                seed: recipe.seed &+ 1, patience: recipe.patience)
            let history = try LSTMTrainer.fit(
                &model.network, samples: fitSamples, validation: validation, options: options,
                progress: progress.map { p in { p($0, $1, $2) } })

            let trainRMSE = try rmse(model, rows: rows, days: w..<(w + nFit))
            let validationRMSE = nFit < nTrain ? try rmse(model, rows: rows, days: (w + nFit)..<(w + nTrain)) : nil
            let testDays = (w + nTrain)..<rows.count
            let testRMSE = try rmse(model, rows: rows, days: testDays)
            let naive = naiveRMSE(rows: rows, days: testDays)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let report = TrainingReport(
                recipe: recipe.name, units: recipe.units, epochs: recipe.epochs, epochsRun: history.epochsRun,
                bestEpoch: history.bestEpoch,
                learningRate: Double("\(recipe.learningRate)") ?? Double(recipe.learningRate),
                batchSize: recipe.batchSize,
                window: w, seed: recipe.seed, rows: rows.count, windows: windows, train: nFit,
                validation: nTrain - nFit,
                test: windows - nTrain, trainRMSE: trainRMSE, validationRMSE: validationRMSE, testRMSE: testRMSE,
                naiveRMSE: naive, finalLoss: history.losses.last.map(Double.init), seconds: seconds)
            var metrics = ["test_rmse": testRMSE, "train_rmse": trainRMSE, "naive_rmse": naive]
            if let validationRMSE { metrics["validation_rmse"] = validationRMSE }
            model.metadata = LSTMRegressor.Metadata(
                recipe: recipe.name, seed: recipe.seed, epochs: history.epochsRun, rows: rows.count, source: source,
                metrics: metrics)
            return (model, report)
        } catch let error as InferenceError {
            throw RetrainingError(.trainingFailed, "training failed: \(error.message)", underlying: error)
        }
    }

    /// RMSE of `model`'s prediction of the close of each day in `days` (indices into `rows`,
    /// each at least `model.window`), from the `model.window` rows before it.
    package static func rmse(_ model: LSTMRegressor, rows: [[Double]], days: Range<Int>) throws -> Double {
        guard !days.isEmpty, days.lowerBound >= model.window, days.upperBound <= rows.count else {
            throw RetrainingError(
                .invalidData, "cannot score days \(days) with a window of \(model.window) over \(rows.count) rows")
        }
        let first = days.lowerBound - model.window
        let predictions = try model.predict(series: Array(rows[first..<days.upperBound]))
        var sum = 0.0
        for (k, d) in days.enumerated() {
            let e = predictions[k] - rows[d][model.targetColumn]
            sum += e * e
        }
        return (sum / Double(days.count)).squareRoot()
    }

    /// RMSE of "tomorrow's close = today's close" over `days`.
    package static func naiveRMSE(rows: [[Double]], days: Range<Int>) -> Double {
        guard !days.isEmpty, days.lowerBound >= 1 else { return .nan }
        var sum = 0.0
        for d in days {
            let e = rows[d - 1][targetColumn] - rows[d][targetColumn]
            sum += e * e
        }
        return (sum / Double(days.count)).squareRoot()
    }
}
