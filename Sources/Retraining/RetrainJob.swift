import Dispatch
import FoundationEssentials
import Inference
import ObjectStore

/// What `mscr retrain` prints: both scores on the same held-out days, and the decision.
package struct RetrainReport: Codable, Sendable, Equatable {
    package var model: String
    /// `published` or `kept`.
    package var decision: String
    package var reason: String
    package var servingVersion: Int?
    package var publishedVersion: Int?
    /// RMSE (dollars) on the held-out days.
    package var candidateRMSE: Double
    package var servingRMSE: Double?
    package var naiveRMSE: Double
    /// The candidate must score below this to be published.
    package var requiredRMSE: Double?
    package var minImprovement: Double
    /// Row indices `[first, last]` of the held-out days (oldest row = 0), and their dates when known.
    package var holdoutDays: [Int]
    package var holdoutDates: [String]?
    package var training: TrainingReport
    package var seconds: Double

    enum CodingKeys: String, CodingKey {
        case model, decision, reason, training, seconds
        case servingVersion = "serving_version"
        case publishedVersion = "published_version"
        case candidateRMSE = "candidate_rmse"
        case servingRMSE = "serving_rmse"
        case naiveRMSE = "naive_rmse"
        case requiredRMSE = "required_rmse"
        case minImprovement = "min_improvement"
        case holdoutDays = "holdout_days"
        case holdoutDates = "holdout_dates"
    }
}

/// The MR connector: trains a candidate on the newest data, scores it and the serving version
/// on the same most recent held-out days, and publishes version N+1 only when the candidate's
/// RMSE is below the serving one's by the relative margin `minImprovement`
/// (`candidate < serving * (1 - minImprovement)`). With no serving version, or one that cannot
/// be loaded, the candidate is published.
package struct RetrainJob: Sendable {
    package struct Options: Sendable {
        package var model: String
        package var minImprovement: Double
        package var recipe: TrainingRecipe

        /// `recipe.testFraction` is the held-out share of the windows (the most recent).
        package init(model: String = "stock-lstm", minImprovement: Double = 0, recipe: TrainingRecipe = .default) {
            self.model = model
            self.minImprovement = minImprovement
            self.recipe = recipe
        }
    }

    package let repository: ModelRepository
    package let options: Options

    package init(repository: ModelRepository, options: Options) {
        self.repository = repository
        self.options = options
    }

    /// Runs the job on `rows` (oldest first). `dates` (optional) only label the report.
    package func run(
        rows: [[Double]], dates: [String]? = nil, source: String? = nil, progress: StockTrainer.Progress? = nil
    ) throws -> RetrainReport {
        let start = DispatchTime.now().uptimeNanoseconds
        guard options.minImprovement >= 0, options.minImprovement < 1 else {
            throw RetrainingError(.invalidData, "min-improvement must be in [0, 1), got \(options.minImprovement)")
        }
        try refuseImportedModel()
        let (candidate, training) = try StockTrainer.train(
            rows: rows, recipe: options.recipe, source: source, progress: progress)
        let days = (rows.count - training.test)..<rows.count
        let candidateRMSE = training.testRMSE
        let naive = StockTrainer.naiveRMSE(rows: rows, days: days)

        var serving: (version: Int, rmse: Double)?
        var servingProblem: String?
        let versions: [Int]
        do {
            versions = try repository.versions(of: options.model)
        } catch {
            throw RetrainingError(.repository, "cannot list \(options.model) in \(repository.store.uri): \(error)")
        }
        if let latest = versions.last {
            do {
                let version = try repository.resolve(model: options.model, version: String(latest))
                let model = try LSTMRegressor.decode(try version.read(LSTMRegressor.fileName).bytes)
                serving = (latest, try StockTrainer.rmse(model, rows: rows, days: days))
            } catch {
                servingProblem = "serving version \(latest) cannot be scored (\(error)); publishing the candidate"
            }
        }

        var report = RetrainReport(
            model: options.model, decision: "kept", reason: "", servingVersion: versions.last, publishedVersion: nil,
            candidateRMSE: candidateRMSE, servingRMSE: serving?.rmse, naiveRMSE: naive,
            requiredRMSE: serving.map { $0.rmse * (1 - options.minImprovement) },
            minImprovement: options.minImprovement,
            holdoutDays: [days.lowerBound, days.upperBound - 1],
            holdoutDates: dates.map { [$0[days.lowerBound], $0[days.upperBound - 1]] }, training: training, seconds: 0)

        let publish: Bool
        if let serving, let required = report.requiredRMSE {
            publish = candidateRMSE < required
            report.reason =
                publish
                ? "candidate RMSE \(round4(candidateRMSE)) beats serving v\(serving.version)'s \(round4(serving.rmse)) by more than \(options.minImprovement * 100)%"
                : "candidate RMSE \(round4(candidateRMSE)) does not beat serving v\(serving.version)'s \(round4(serving.rmse)) (needs < \(round4(required)))"
        } else {
            publish = true
            report.reason = servingProblem ?? "no serving version of \(options.model) yet"
        }
        if publish {
            var metrics = candidate.metadata.metrics ?? [:]
            metrics["holdout_rmse"] = candidateRMSE
            if let s = serving { metrics["serving_holdout_rmse"] = s.rmse }
            do {
                let manifest = try repository.publish(
                    model: options.model, format: "lstm-regressor",
                    files: [LSTMRegressor.fileName: candidate.encoded()],
                    metrics: metrics.filter { $0.value.isFinite }, parent: versions.last, source: source)
                report.decision = "published"
                report.publishedVersion = manifest.version
            } catch {
                throw RetrainingError(.repository, "cannot publish \(options.model): \(error)")
            }
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }
}

extension RetrainJob {
    /// Retraining makes native `lstm-regressor` models only: a model whose latest version is an
    /// imported ONNX graph (trained elsewhere, e.g. Keras) is refused, never replaced by a native one.
    func refuseImportedModel() throws {
        guard let latest = try? repository.versions(of: options.model).last,
            let version = try? repository.resolve(model: options.model, version: String(latest)),
            version.manifest.format == "onnx"
        else { return }
        throw RetrainingError(
            .unsupportedModel,
            "\(options.model) version \(latest) is an ONNX model (format onnx); retraining only makes native lstm-regressor models: retrain it where it was trained and publish the new model.onnx"
        )
    }
}

func round4(_ v: Double) -> Double { (v * 10_000).rounded() / 10_000 }
