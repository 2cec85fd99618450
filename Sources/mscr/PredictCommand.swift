import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import Runtime

/// `mscr predict`: runs the stock function on a file, through the same code path as HTTP.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict next-day closes with a local lstm-regressor model folder; prints the stock function's JSON.")

    @Option(help: "Model folder holding model.json (as written by `mscr train`).")
    var model: String
    @Option(help: "Headerless rows: oldest-first (default) or newest-first (goog-daily.csv is newest-first).")
    var order: String?
    @Option(help: "json or svg.")
    var format: String = "json"
    @Option(help: "The model name in the JSON (default: the model folder's name).")
    var modelName: String?
    @Argument(help: "CSV or JSON file of rows; '-' reads stdin.")
    var input: String

    func run() async throws {
        let path = Path.appending(model, LSTMRegressor.fileName)
        guard let modelBytes = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        let regressor = try LSTMRegressor.decode(Array(modelBytes))
        let body: Data?
        if input == "-" {
            body = Data(StandardStream.readInput())
        } else {
            body = FileManager.default.contents(atPath: input)
        }
        guard let body else { throw ValidationError("cannot read \(input)") }
        let function = StockFunction(
            regressor: regressor, modelName: modelName ?? Path.lastComponent(model), version: 0)
        var query = ["format": format]
        if let order { query["order"] = order }
        let json = input.lowercased().hasSuffix(".json")
        do {
            let response = try function.invoke(
                FunctionRequest(body: Array(body), contentType: json ? "application/json" : "text/csv", query: query))
            StandardStream.writeOutput(response.body)
            if format == "json" { StandardStream.writeOutput("\n") }
        } catch {
            // The body `POST /functions/<name>` answers for the same input.
            StandardStream.writeOutput(APIError.from(error).body)
            StandardStream.writeOutput("\n")
            throw ExitCode(1)
        }
    }
}
