import ArgumentParser
import Common
import Dispatch
import FoundationEssentials
import Inference
import ONNX

/// `mscr onnx`: inspect and run ONNX models on the engine's CPU kernels.
struct ONNXCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx", abstract: "Inspect or run an ONNX model on mscr's CPU engine.",
        subcommands: [ONNXInspectCommand.self, ONNXRunCommand.self])

    /// Reads and imports `path`; on refusal prints the reason and exits 1 (no usage text).
    static func load(_ path: String) throws -> ONNXNetwork {
        guard let data = FileManager.default.contents(atPath: path) else {
            StandardStream.writeError("error: cannot read \(path)\n")
            throw ExitCode(1)
        }
        do {
            return try ONNXImporter.load([UInt8](data))
        } catch let error as ONNXError {
            StandardStream.writeError("error: \(path): \(error.message)\n")
            throw ExitCode(1)
        }
    }
}

/// `mscr onnx inspect FILE`: inputs, outputs, op counts, or why the model is refused.
struct ONNXInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print an ONNX model's inputs, outputs and op counts, or why it cannot be imported.")

    @Argument(help: "An .onnx file.")
    var file: String

    func run() async throws {
        let network = try ONNXCommand.load(file)
        var text = "opset \(network.opset)\n"
        for input in network.inputs { text += "input  \(input)\n" }
        for output in network.outputs { text += "output \(output)\n" }
        text += "ops:\n"
        for (op, count) in network.opCounts { text += "  \(op) \(count)\n" }
        let conv = network.convolutionSummary
        text +=
            "engine: \(network.stepCount) steps, \(conv.count) convolutions (\(conv.fused) with a fused activation)\n"
        StandardStream.writeOutput(text)
    }
}

/// `mscr onnx run FILE --input NAME=PATH.npy … --out DIR`, or `--bench N`.
struct ONNXRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an ONNX model on float32 .npy inputs; write one .npy per output, or time the forward pass.")

    @Argument(help: "An .onnx file.")
    var file: String
    @Option(
        name: .customLong("input"),
        help:
            "NAME=PATH.npy for each graph input (float32, C order). With --bench, inputs left out are filled with seeded random values."
    )
    var inputs: [String] = []
    @Option(help: "Folder for the outputs (OUTPUT_NAME.npy each; '/' in names becomes '_').")
    var out: String?
    @Option(help: "Time this many forward passes (after --warmup) and print min/median as JSON.")
    var bench: Int?
    @Option(help: "Untimed runs before --bench.")
    var warmup: Int = 3
    @Option(help: "Inference threads (default: MSCR_THREADS, else the CPU quota).")
    var threads: Int?
    @Flag(help: "With --bench, also print the median time of every engine step (slowest first) on stderr.")
    var steps = false

    func run() async throws {
        let threadCount = try DetectCLI.configureEngine(threads: threads)
        let pool = ComputePool(threads: threadCount)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let network = try pool.run { try ONNXCommand.load(file) }
        let loadMS = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        var feeds: [String: [Float]] = [:]
        do {
            for spec in inputs {
                guard let eq = spec.firstIndex(of: "=") else {
                    throw ValidationError("--input takes NAME=PATH.npy, got '\(spec)'")
                }
                let name = String(spec[..<eq])
                let path = String(spec[spec.index(after: eq)...])
                guard let info = network.inputs.first(where: { $0.name == name }) else {
                    throw ONNXError(
                        .invalidInput,
                        "the model has no input '\(name)' (inputs: \(network.inputs.map(\.description).joined(separator: ", ")))"
                    )
                }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ONNXError(.invalidInput, "cannot read \(path)")
                }
                let (shape, values) = try NPY.read([UInt8](data), name: path)
                guard shape == info.shape else {
                    throw ONNXError(.invalidInput, "\(path) has shape \(shape) but input '\(name)' needs \(info.shape)")
                }
                feeds[name] = values
            }
            if bench != nil {
                var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
                for input in network.inputs where feeds[input.name] == nil {
                    feeds[input.name] = (0..<input.shape.reduce(1, *)).map { _ in
                        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        return Float(seed >> 40) / Float(1 << 24)
                    }
                }
            }
        } catch let error as ONNXError {
            StandardStream.writeError("error: \(error.message)\n")
            throw ExitCode(1)
        }
        if let runs = bench {
            try benchmark(network, feeds, runs: max(1, runs), pool: pool, loadMS: loadMS)
            return
        }
        guard let out else { throw ValidationError("give --out DIR (or --bench N)") }
        let results: [[Float]]
        do {
            results = try pool.run { try network.run(feeds) }
        } catch let error as ONNXError {
            StandardStream.writeError("error: \(error.message)\n")
            throw ExitCode(1)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for (info, values) in zip(network.outputs, results) {
            let name = String(info.name.map { $0 == "/" ? "_" : $0 }) + ".npy"
            let path = Path.appending(out, name)
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(NPY.write(shape: info.shape, values: values)))
            else {
                StandardStream.writeError("error: cannot write \(path)\n")
                throw ExitCode(1)
            }
            StandardStream.writeOutput("\(path)\n")
        }
    }

    private func benchmark(
        _ network: ONNXNetwork, _ feeds: [String: [Float]], runs: Int, pool: ComputePool, loadMS: Double
    ) throws {
        let threads = pool.threads
        var times: [Double] = []
        var first = 0.0
        let stepTimes = UnsafeMutableBufferPointer<Double>.allocate(capacity: network.stepCount)
        defer { stepTimes.deallocate() }
        var perStep = [[Double]](repeating: [], count: network.stepCount)
        for i in 0..<(max(0, warmup) + runs) {
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try pool.run { try network.run(feeds, stepTimes: steps ? stepTimes : nil) }
            if steps, i >= warmup { for s in 0..<network.stepCount { perStep[s].append(stepTimes[s] * 1e3) } }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
            if i == 0 { first = ms }
            if i >= warmup { times.append(ms) }
        }
        if steps {
            let medians = perStep.map { $0.sorted()[$0.count / 2] }
            for i in medians.indices.sorted(by: { medians[$0] > medians[$1] }) {
                StandardStream.writeError(
                    "\((medians[i] * 1000).rounded() / 1000) ms  #\(i) \(network.describeStep(i))\n")
            }
        }
        let s = times.sorted()
        struct Forward: Encodable { var min, median, max: Double }
        struct Report: Encodable {
            var model, kernel_isa: String
            var threads, runs: Int
            var load_ms, first_forward_ms: Double
            var forward_ms: Forward
            var forward_runs_ms: [Double]
        }
        let report = Report(
            model: Path.lastComponent(file), kernel_isa: KernelISA.current.rawValue, threads: threads, runs: s.count,
            load_ms: loadMS.rounded(toPlaces: 3),
            first_forward_ms: first.rounded(toPlaces: 3),
            forward_ms: Forward(
                min: s[0].rounded(toPlaces: 3), median: s[s.count / 2].rounded(toPlaces: 3),
                max: s[s.count - 1].rounded(toPlaces: 3)),
            forward_runs_ms: times.map { $0.rounded(toPlaces: 3) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        StandardStream.writeOutput(Array(try encoder.encode(report)) + [0x0A])
    }
}
