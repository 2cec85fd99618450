import ArgumentParser
import Inference
import InferenceKernels
import Runtime

/// The one executable: serve, detect, predict, train, retrain, publish, invoke, coldstart, load.
@main
struct MSCR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mscr",
        abstract: "Serve machine-learning functions the way Cloud Run and Knative expect.",
        version: "0.1.0",
        // Each helper registers its commands here, one per line.
        subcommands: [
            ServeCommand.self,
            PublishCommand.self,
            ModelsCommand.self,
            TrainCommand.self,
            RetrainCommand.self,
            PredictCommand.self,
            DetectCommand.self,
            BenchCommand.self,
            InvokeCommand.self,
            ColdstartCommand.self,
            LoadCommand.self,
            HealthCommand.self,
            ONNXCommand.self,
            CompileCommand.self,
        ]
    )

    /// Stops OpenBLAS's start-up worker threads before anything else runs (they would spin on
    /// the second core for the first ~0.1-0.2 s of every process), then parses and runs.
    /// `mscr serve` without flags (the image's command; everything comes from the environment)
    /// skips the argument parser: building its tree of every command's options costs a few ms
    /// of Swift metadata and conformance lookups, a tenth of a small model's cold start
    /// (BENCHMARKS.md "Session 8"). It is what `ServeCommand` does with no flags.
    static func main() async {
        Gemm.stopOwnThreads()
        if CommandLine.arguments.dropFirst().elementsEqual(["serve"]) {
            await ServeCommand.serve(configuration: Serve.configurationFromEnvironment(), portFile: nil)
            return
        }
        await main(nil)
    }
}
