import ArgumentParser
import Inference
import InferenceKernels

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
    static func main() async {
        Gemm.stopOwnThreads()
        await main(nil)
    }
}
