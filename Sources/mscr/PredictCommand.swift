import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import MSCRFunctions
import Runtime
import Stock

/// `mscr predict`: runs the stock function (`functions/stock`) on a file, through the same codecs
/// and handler as `POST /functions/<name>`.
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
        let name = modelName ?? Path.lastComponent(model)
        let loaded = RegressorModel(StockForecaster(regressor: regressor, modelName: name, version: 0))
        var query = ["format": format]
        if let order { query["order"] = order }
        let json = input.lowercased().hasSuffix(".json")
        do {
            let config = FunctionConfig(name: "stock", kind: Stock.kind, model: name)
            let response = try TypedFunctionKind<Stock>.answer(
                FunctionRequest(body: Array(body), contentType: json ? "application/json" : "text/csv", query: query),
                function: try Stock(parameters: FunctionParameters(config)), model: loaded, config: config, version: 0)
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
