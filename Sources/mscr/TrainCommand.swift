import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import Retraining

#if canImport(Glibc)
import Glibc
#endif

/// `mscr train stock`: trains the stock regressor and writes an lstm-regressor model folder.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the stock LSTM and write a model folder (model.json) that `mscr publish` accepts.",
        discussion: """
            Prints a JSON report on stdout: train_rmse, test_rmse, naive_rmse (dollars, on the most recent \
            30 % of the windows), epochs, seconds, … Progress goes to stderr when it is a terminal. \
            --recipe seed reproduces the original Keras recipe (LSTM(1), Dense(1, tanh), Adam 0.01, 500 epochs, \
            batch 32, min-max scaling); the default recipe uses scale-free features and early stopping.
            """)

    @Argument(help: "The function to train (only 'stock').")
    var function: String
    @Option(help: "Training data: a path, file:// URI or object URI (s3://…, gs://…, https://…) of CSV or JSON rows.")
    var data: String
    @Option(
        help: "Headerless rows: oldest-first or newest-first (goog-daily.csv is newest-first). Ignored for dated rows.")
    var order: String?
    @Option(help: "Folder to write model.json into (created if missing).")
    var out: String
    @Option(help: "Recipe: seed (the original) or default.")
    var recipe: String = "default"
    @Option(help: "LSTM units; a comma-separated list stacks layers (e.g. 16,8).")
    var units: String?
    @Option(help: "Epochs (an upper bound when the recipe stops early).")
    var epochs: Int?
    @Option(name: .customLong("lr"), help: "Adam learning rate.")
    var learningRate: Float?
    @Option(help: "Rows per window.")
    var window: Int?
    @Option(help: "Random seed (weights and shuffling).")
    var seed: UInt64?

    func run() async throws {
        guard function == "stock" else { throw ValidationError("only 'stock' can be trained, not '\(function)'") }
        let recipe = try StockCLI.recipe(
            name: self.recipe, units: units, epochs: epochs, learningRate: learningRate, window: window, seed: seed)
        let series = try TrainingData.load(data, order: try StockCLI.order(order))
        let (model, report) = try StockTrainer.train(
            rows: series.rows, recipe: recipe, source: data, progress: StockCLI.progress(epochs: recipe.epochs))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let path = Path.appending(out, LSTMRegressor.fileName)
        guard FileManager.default.createFile(atPath: path, contents: Data(model.encoded())) else {
            throw ValidationError("cannot write \(path)")
        }
        print(try StockCLI.json(report))
    }
}

/// Shared bits of the stock commands.
enum StockCLI {
    static func recipe(
        name: String, units: String?, epochs: Int?, learningRate: Float?, window: Int?, seed: UInt64?
    ) throws -> TrainingRecipe {
        guard var recipe = TrainingRecipe.named(name) else {
            throw ValidationError("--recipe must be 'seed' or 'default', not '\(name)'")
        }
        if let units {
            let list = units.split(separator: ",").compactMap { Int($0.trimmed) }
            guard !list.isEmpty, list.count == units.split(separator: ",").count,
                list.allSatisfy({ $0 > 0 && $0 <= 1024 })
            else { throw ValidationError("--units must be positive integers (e.g. 16 or 16,8), not '\(units)'") }
            recipe.units = list
        }
        if let epochs {
            guard epochs >= 0, epochs <= 1_000_000 else { throw ValidationError("--epochs must be 0...1000000") }
            recipe.epochs = epochs
        }
        if let learningRate {
            guard learningRate.isFinite, learningRate > 0, learningRate < 10 else {
                throw ValidationError("--lr must be in (0, 10)")
            }
            recipe.learningRate = learningRate
        }
        if let window {
            guard window >= 1, window <= 1000 else { throw ValidationError("--window must be 1...1000") }
            recipe.window = window
        }
        if let seed { recipe.seed = seed }
        return recipe
    }

    static func order(_ text: String?) throws -> StockSeries.Order? {
        guard let text else { return nil }
        do {
            return try StockSeries.Order(text)
        } catch {
            throw ValidationError("--order must be oldest-first or newest-first, not '\(text)'")
        }
    }

    /// An epoch counter on stderr when stderr is a terminal.
    static func progress(epochs: Int) -> StockTrainer.Progress? {
        guard isatty(2) == 1 else { return nil }
        return { epoch, loss, validation in
            if epoch == 1 || epoch % 10 == 0 || epoch == epochs {
                var line = "\repoch \(epoch)/\(epochs)  loss \(loss.fixed(6))"
                if let validation { line += "  val \(validation.fixed(6))" }
                StandardStream.writeError(line + "   ")
                if epoch == epochs { StandardStream.writeError("\n") }
            }
            return true
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
