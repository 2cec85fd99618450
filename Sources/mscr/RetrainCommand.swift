import ArgumentParser
import FoundationEssentials
import ObjectStore
import Retraining

/// `mscr retrain stock`: the retraining job (cron, Cloud Scheduler, Cloud Run Job).
struct RetrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract:
            "Train a candidate on the newest data; publish it as version N+1 only if it beats the serving version.",
        discussion: """
            Both models are scored on the same most recent held-out days (the last 30 % of the windows); the \
            candidate is published when its RMSE is below serving × (1 - min-improvement). Prints a JSON \
            report with both scores and the decision; exits 0 whether it published or kept the old version.
            """)

    @Argument(help: "The function to retrain (only 'stock').")
    var function: String
    @Option(help: "Newest data: a path, file:// URI or object URI of CSV or JSON rows.")
    var data: String
    @Option(help: "Headerless rows: oldest-first or newest-first. Ignored for dated rows.")
    var order: String?
    @Option(help: "Model repository URI (default: $MSCR_MODEL_REPOSITORY).")
    var repository: String?
    @Option(help: "Model name in the repository.")
    var model: String = "stock-lstm"
    @Option(help: "Relative margin the candidate must win by (0.05 = 5 % lower RMSE).")
    var minImprovement: Double = 0
    @Option(help: "Recipe of the candidate: default or seed.")
    var recipe: String = "default"
    @Option(help: "Epochs (an upper bound when the recipe stops early).")
    var epochs: Int?
    @Option(help: "Random seed.")
    var seed: UInt64?

    func run() async throws {
        guard function == "stock" else { throw ValidationError("only 'stock' can be retrained, not '\(function)'") }
        guard minImprovement >= 0, minImprovement < 1 else {
            throw ValidationError("--min-improvement must be in [0, 1)")
        }
        guard let uri = repository ?? ProcessInfo.processInfo.environment["MSCR_MODEL_REPOSITORY"] else {
            throw ValidationError("--repository (or MSCR_MODEL_REPOSITORY) is required")
        }
        let recipe = try StockCLI.recipe(
            name: self.recipe, units: nil, epochs: epochs, learningRate: nil, window: nil, seed: seed)
        let series = try TrainingData.load(data, order: try StockCLI.order(order))
        let job = RetrainJob(
            repository: ModelRepository(store: try ObjectStores.open(uri)),
            options: .init(model: model, minImprovement: minImprovement, recipe: recipe))
        let report = try job.run(
            rows: series.rows, dates: series.dates, source: data, progress: StockCLI.progress(epochs: recipe.epochs))
        print(try StockCLI.json(report))
    }
}
