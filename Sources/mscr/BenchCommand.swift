import ArgumentParser
import Common
import Dispatch
import FoundationEssentials
import Functions
import Inference

/// `mscr bench`: micro-benchmarks of the engines, JSON on stdout.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark an engine.",
        subcommands: [BenchDetectCommand.self, BenchLoadCommand.self])
}

/// `mscr bench detect`: decode + resize, forward, decode + NMS timings of one image.
struct BenchDetectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Time detection on one image: preprocessing, forward and postprocessing, with GFLOP/s.",
        discussion: """
            The model is a Darknet --cfg and --weights, or an Ultralytics-style ONNX export (--onnx, output \
            [1, 4+classes, boxes]) run as the detect function runs it: letterbox, forward, class-wise NMS.
            """)

    @Option(help: "Darknet .cfg file.")
    var cfg: String?
    @Option(help: "Darknet .weights file.")
    var weights: String?
    @Option(help: "ONNX detection export (instead of --cfg and --weights).")
    var onnx: String?
    @Option(help: "Network input size (overrides the cfg's width and height; Darknet only).")
    var size: Int?
    @Option(help: "Inference threads (default: MSCR_THREADS, else the CPU quota).")
    var threads: Int?
    @Option(help: "Timed runs.")
    var runs: Int = 30
    @Option(help: "Untimed runs first.")
    var warmup: Int = 5
    @Option(help: "Score threshold.")
    var threshold: Float = 0.25
    @Flag(
        help:
            "Also time every layer (ONNX: every step): adds `layers` (index, type, output shape and GFLOP for Darknet, min/median/max ms, share of the forward) to the JSON."
    )
    var layers = false
    @Flag(
        help: ArgumentHelp(
            "After the warm-up, wait for a line on stdin before each timed run and print that run as a JSON line; end at EOF (or after --runs).",
            discussion:
                "For harnesses that interleave engines run by run, so that all of them see the same moments of a shared machine."
        ))
    var step = false
    @Argument(help: "A JPEG or PNG file.")
    var image: String

    func validate() throws {
        if onnx != nil {
            guard cfg == nil, weights == nil, size == nil else {
                throw ValidationError("--onnx replaces --cfg, --weights and --size")
            }
        } else if cfg == nil || weights == nil {
            throw ValidationError("give --cfg and --weights (Darknet) or --onnx (ONNX)")
        }
    }

    func run() async throws {
        let threadCount = try DetectCLI.configureEngine(threads: threads)
        let pool = ComputePool(threads: threadCount)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let network = try pool.run {
            if let onnx {
                try BenchDetectEngine.onnx(onnx)
            } else {
                try BenchDetectEngine.darknet(cfg: cfg ?? "", weights: weights ?? "", size: size)
            }
        }
        let loadMS = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let bytes = try DetectCLI.read(image)
        var pre: [Double] = []
        var forward: [Double] = []
        var post: [Double] = []
        var first = 0.0
        let layerCount = network.layerCount
        var layerMS = [[Double]](repeating: [], count: layerCount)
        let times = UnsafeMutableBufferPointer<Double>.allocate(capacity: layerCount)
        defer { times.deallocate() }
        if step {
            let ready: JSONValue = ["ready": true, "load_ms": Self.round(loadMS).json]
            StandardStream.writeOutput(ready.bytes() + [0x0A])
        }
        for i in 0..<(max(0, warmup) + max(1, runs)) {
            if step, i >= warmup, readLine() == nil { break }
            let d0 = DispatchTime.now().uptimeNanoseconds
            let decoded = try ImageCodec.decode(bytes, maxPixels: Int.max)
            let decodeMS = Double(DispatchTime.now().uptimeNanoseconds - d0) / 1e6
            let result = try pool.run { try network.detect(decoded, threshold, layers ? times : nil) }
            if i == 0 { first = result.timings.forward * 1e3 }
            guard i >= warmup else { continue }
            if layers {
                for l in 0..<layerCount { layerMS[l].append(times[l] * 1e3) }
            }
            let (preMS, forwardMS, postMS) = (
                decodeMS + result.timings.preprocess * 1e3, result.timings.forward * 1e3,
                result.timings.postprocess * 1e3
            )
            pre.append(preMS)
            forward.append(forwardMS)
            post.append(postMS)
            if step {
                let line: JSONValue = [
                    "run": forward.count.json, "forward_ms": Self.round(forwardMS).json,
                    "preprocess_ms": Self.round(preMS).json, "postprocess_ms": Self.round(postMS).json,
                ]
                StandardStream.writeOutput(line.bytes() + [0x0A])
            }
        }
        let gflop = Double(network.flops) / 1e9
        let median = Self.stats(forward)["median"] ?? 1
        var output: [String: JSONValue] = [
            "model": network.model.json,
            "input": network.input.json,
            "threads": threadCount.json,
            "kernel_isa": KernelISA.current.rawValue.json,
            "runs": forward.count.json,
            "load_ms": Self.round(loadMS).json,
            "first_forward_ms": Self.round(first).json,
            "forward_ms": Self.stats(forward).json,
            "forward_runs_ms": forward.map(Self.round).json,
            "preprocess_ms": Self.stats(pre).json,
            "postprocess_ms": Self.stats(post).json,
            "model_gflop": Self.round(gflop).json,
            "gflops": Self.round(gflop / (median / 1e3)).json,
        ]
        if layers {
            let rows: [JSONValue] = (0..<layerCount).map { l in
                let stats = Self.stats(layerMS[l])
                var entry = network.describe(l)
                entry["ms"] = stats.json
                entry["share"] = Self.round((stats["median"] ?? 0) / median).json
                return entry.json
            }
            output["layers"] = .array(rows)
        }
        print(output.json.text())
    }

    static func stats(_ xs: [Double]) -> [String: Double] {
        let s = xs.sorted()
        guard !s.isEmpty else { return [:] }
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        return ["min": round(s[0]), "median": round(median), "max": round(s[s.count - 1])]
    }

    static func round(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
