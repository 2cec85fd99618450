import ArgumentParser
import FoundationEssentials
import ObjectStore

extension ModelsCommand {
    /// What `pin` and `rollback` print: the alias as written, and the repository.
    struct AliasReport: Encodable {
        var repository: String
        var model: String
        var alias: String
        var version: Int
        var previous: Int?
        var history: [Int]

        init(repository: String, model: String, previous: Int?, written: ModelAlias) {
            self.repository = repository
            self.model = model
            self.alias = written.alias
            self.version = written.version
            self.previous = previous
            self.history = written.history
        }

        func print() {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            Swift.print(String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self))
        }
    }

    /// `mscr models pin --model M --version N [--repository URI]`.
    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pin",
            abstract: "Point the model's 'stable' alias at a committed version.",
            discussion: """
                Writes <model>/aliases/stable.json in the repository (the version it pointed at before is kept for \
                'rollback'). Functions whose function.json says "version": "stable" serve that version: running \
                instances swap to it at their next version poll (MSCR_VERSION_POLL) or on \
                POST /admin/functions/NAME/reload, without a failed request. Prints the alias as JSON.
                """)

        @Option(help: "Repository URI (default: $MSCR_MODEL_REPOSITORY, else ./models).")
        var repository: String?
        @Option(help: "Model name.")
        var model: String
        @Option(help: "A committed version number.")
        var version: Int

        func run() throws {
            let repository = try ModelRepository.open(RepositoryOption.resolve(repository))
            let previous = try repository.alias(ModelAlias.stable, of: model)?.version
            let written = try repository.pin(model: model, version: version)
            AliasReport(repository: repository.store.uri, model: model, previous: previous, written: written).print()
        }
    }

    /// `mscr models rollback --model M [--repository URI]`.
    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Point the model's 'stable' alias back at the version it pinned before.",
            discussion: """
                Steps back through the alias's pin history; with no history, goes to the highest committed version \
                below the current one. Running instances that follow "stable" swap as after a pin. Prints the alias \
                as JSON.
                """)

        @Option(help: "Repository URI (default: $MSCR_MODEL_REPOSITORY, else ./models).")
        var repository: String?
        @Option(help: "Model name.")
        var model: String

        func run() throws {
            let repository = try ModelRepository.open(RepositoryOption.resolve(repository))
            let previous = try repository.alias(ModelAlias.stable, of: model)?.version
            let written = try repository.rollback(model: model)
            AliasReport(repository: repository.store.uri, model: model, previous: previous, written: written).print()
        }
    }
}
