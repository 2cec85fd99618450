import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import ObjectStore
import Retraining

/// `mscr models list|seed`: what a repository holds, and the demo models.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, seed, verify, pin and roll back the models of a repository.",
        subcommands: [List.self, Seed.self, Verify.self, Pin.self, Rollback.self])

    /// `mscr models list [--repository URI]`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Print the models of a repository with their committed versions, as JSON.",
            discussion: """
                An http(s):// repository can be listed only when it has an index.txt (one key per line) at its root.
                """)

        @Option(help: "Repository URI (default: $MSCR_MODEL_REPOSITORY, else ./models).")
        var repository: String?

        func run() throws {
            let repository = try ModelRepository.open(RepositoryOption.resolve(repository))
            var models: [JSONValue] = []
            for name in try repository.models() {
                let versions = try repository.versions(of: name)
                var entry: [(String, JSONValue)] = [("name", name.json), ("versions", versions.json)]
                if let latest = versions.last {
                    entry.append(("latest", latest.json))
                    if let format = (try? repository.resolve(model: name, version: String(latest)))?.manifest.format {
                        entry.append(("format", format.json))
                    }
                }
                models.append(.object(entry))
            }
            printJSON(["repository": repository.store.uri.json, "models": .array(models)])
        }
    }

    /// `mscr models verify --model NAME [--version N|latest] [--repository URI]`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Stream every file of a model version, check its size and sha256, and report the throughput.",
            discussion: """
                Prints {"model", "version", "files": {name: {"bytes", "seconds", "cache_hit"}}, "bytes", "seconds", \
                "mb_per_s"}; fails (naming file, expected and actual) on any mismatch. The files are hashed, not parsed, \
                so this measures fetch + verification. MSCR_CACHE_DIR, when set, is used as by the server.
                """)

        @Option(help: "Repository URI (default: $MSCR_MODEL_REPOSITORY, else ./models).")
        var repository: String?
        @Option(help: "Model name.")
        var model: String
        @Option(help: "Version number or 'latest'.")
        var version: String = "latest"

        func run() throws {
            let repository = try ModelRepository.open(RepositoryOption.resolve(repository))
            let resolved = try repository.resolve(model: model, version: version)
            let progress = TerminalProgress()
            var files: [String: JSONValue] = [:]
            var total = TransferStats()
            for name in resolved.manifest.files.keys.sorted() {
                progress.say("verifying \(name) (\(TerminalProgress.bytes(resolved.manifest.files[name]?.size ?? 0)))")
                let stats = try resolved.stream(name) { _ in }
                files[name] = [
                    "bytes": stats.bytes.json, "seconds": stats.totalSeconds.json,
                    "cache_hit": (stats.cacheHits > 0).json,
                ]
                total = total + stats
            }
            printJSON([
                "model": model.json, "version": resolved.version.json, "repository": repository.store.uri.json,
                "files": files.json, "bytes": total.bytes.json, "seconds": total.totalSeconds.json,
                "mb_per_s": (total.totalSeconds > 0 ? Double(total.bytes) / 1e6 / total.totalSeconds : 0).json,
            ])
        }
    }

    /// `mscr models seed [--repository URI] [--shared DIR]`.
    struct Seed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seed",
            abstract: "Publish the demo models as version 1 (yolo-fastest-1.1, yolo-fastest-1.1-xl, stock-lstm).",
            discussion: """
                Files come from the shared data folder (--shared, else ../shared/data or ./shared/data from the \
                current directory) or, when it is missing, from their public homes (GitHub); every file is checked \
                against its known size and sha256. Models that already have a version are skipped, so running it \
                again is harmless. Prints what it did as JSON; fails if any model could not be seeded.
                """)

        @Option(help: "Repository URI (default: $MSCR_MODEL_REPOSITORY, else ./models).")
        var repository: String?
        @Option(help: "The shared data folder (a 'shared' or 'shared/data' folder).")
        var shared: String?

        func run() throws {
            let uri = RepositoryOption.resolve(repository)
            if !uri.contains("://") {
                try FileManager.default.createDirectory(atPath: uri, withIntermediateDirectories: true)
            }
            let repository = try ModelRepository.open(uri)
            let sharedData = DemoModels.locateSharedData(
                explicit: shared, currentDirectory: FileManager.default.currentDirectoryPath)
            let progress = TerminalProgress()
            var transport = try TransportConfiguration(environment: ProcessInfo.processInfo.environment)
            transport.deadline = max(transport.deadline, 300)
            var outcomes: [DemoModels.Outcome] = []
            var failures: [String] = []
            for model in DemoModels.detection {
                do {
                    outcomes.append(
                        try DemoModels.seed(
                            model, into: repository, sharedData: sharedData, transport: transport,
                            progress: progress.say))
                } catch {
                    failures.append("\(model.name): \(error)")
                }
            }
            do {
                if let outcome = try Self.seedStockIfMissing(
                    repository: repository, sharedData: sharedData, transport: transport, progress: progress)
                {
                    outcomes.append(outcome)
                }
            } catch {
                failures.append("stock-lstm: \(error)")
            }
            for outcome in outcomes {
                StandardStream.writeError(
                    "\(outcome.model): \(outcome.action) version \(outcome.version) (\(outcome.detail))\n")
            }
            printJSON([
                "repository": repository.store.uri.json,
                "models": .array(
                    outcomes.map {
                        [
                            "model": $0.model.json, "action": $0.action.json, "version": $0.version.json,
                            "detail": $0.detail.json,
                        ]
                    }),
                "failed": failures.json,
            ])
            if !failures.isEmpty {
                // A failure to fetch is not a usage error: say what failed, no usage text, exit 1.
                StandardStream.writeError("error: could not seed:\n  " + failures.joined(separator: "\n  ") + "\n")
                throw ExitCode(1)
            }
        }

        static func seedStockIfMissing(
            repository: ModelRepository, sharedData: String?, transport: TransportConfiguration,
            progress: TerminalProgress
        ) throws -> DemoModels.Outcome? {
            if let existing = try repository.versions(of: "stock-lstm").last {
                return DemoModels.Outcome(
                    model: "stock-lstm", action: "skipped", version: existing, detail: "already has version \(existing)"
                )
            }
            let (csv, source) = try DemoModels.stockData(
                sharedData: sharedData, transport: transport, progress: progress.say)
            return try seedStock(repository: repository, csv: csv, source: source)
        }

        /// Trains `stock-lstm` with the default recipe on `csv` (goog-daily.csv: newest first,
        /// `#` comments, verified) and publishes it as version 1.
        static func seedStock(repository: ModelRepository, csv: [UInt8], source: String) throws -> DemoModels.Outcome? {
            let series = try StockSeries.parse(body: csv, json: false, order: .newestFirst)
            let (model, report) = try StockTrainer.train(rows: series.rows, recipe: .default, source: source)
            let bytes = model.encoded()
            let manifest = try repository.publish(
                model: "stock-lstm", version: 1, format: "lstm-regressor", files: [LSTMRegressor.fileName: bytes],
                metrics: [
                    "test_rmse": report.testRMSE, "train_rmse": report.trainRMSE, "naive_rmse": report.naiveRMSE,
                ],
                source: source)
            return DemoModels.Outcome(
                model: "stock-lstm", action: "published", version: manifest.version,
                detail:
                    "trained on \(source) in \(report.seconds.fixed(1)) s, test RMSE $\(report.testRMSE.fixed(2)) (naive $\(report.naiveRMSE.fixed(2)))"
            )
        }
    }
}
