import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import ONNX
import ObjectStore
import Runtime

/// `mscr detect`: runs the detect function on image files, one JSON line per image.
struct DetectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract:
            "Detect objects in images with a Darknet YOLO model or an ONNX export; prints one JSON object per image per line.",
        discussion: """
            Each line is exactly what POST /functions/detect answers for that image ({"model", "image", \
            "detections"}, or {"error": {"code", "message"}}), with the model named --model-name (default: the cfg \
            or onnx file's name without its extension) and version 0 (no repository). Exit 1 if any image failed. \
            --onnx takes an Ultralytics-style export (output [1, 4+classes, boxes]) and runs it as the detect \
            function does: letterbox, forward, class-wise NMS.
            """)

    @Option(help: "Darknet .cfg file.")
    var cfg: String?
    @Option(help: "Darknet .weights file.")
    var weights: String?
    @Option(help: "ONNX detection export (instead of --cfg and --weights).")
    var onnx: String?
    @Option(help: "Class names, one per line (coco.names); optional with --onnx (default: the model's names metadata).")
    var names: String?
    @Option(help: "Score threshold.")
    var threshold: Float = 0.25
    @Option(help: "NMS overlap threshold (default 0.45 for Darknet, where 0 turns NMS off; IoU 0.7 for ONNX).")
    var nms: Float?
    @Option(help: "Network input size (overrides the cfg's width and height).")
    var size: Int?
    @Option(help: "Inference threads (default: MSCR_THREADS, else the CPU quota).")
    var threads: Int?
    @Option(help: "Largest image accepted, in pixels.")
    var maxPixels: Int = 40_000_000
    @Option(help: "The model name in the JSON (default: the cfg file's name without .cfg).")
    var modelName: String?
    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    func validate() throws {
        if onnx != nil {
            guard cfg == nil, weights == nil, size == nil else {
                throw ValidationError("--onnx replaces --cfg, --weights and --size")
            }
        } else if cfg == nil || weights == nil || names == nil {
            throw ValidationError("give --cfg, --weights and --names (Darknet) or --onnx (ONNX)")
        }
    }

    func run() async throws {
        let pool = ComputePool(threads: try DetectCLI.configureEngine(threads: threads))
        let detector: any DetectingFunction
        let model: String
        if let onnx {
            detector = try pool.run {
                try DetectCLI.loadONNX(onnx, names: names, threshold: threshold, iou: nms ?? 0.7, maxPixels: maxPixels)
            }
            model = modelName ?? Self.stem(of: onnx, extension: ".onnx")
        } else {
            detector = try pool.run {
                try DetectCLI.load(
                    cfg: cfg ?? "", weights: weights ?? "", names: names ?? "", size: size, threshold: threshold,
                    nms: nms ?? 0.45, maxPixels: maxPixels)
            }
            model = modelName ?? Self.stem(of: cfg ?? "")
        }
        var failed = false
        for path in images {
            do {
                let bytes = try DetectCLI.read(path)
                let result = try pool.run { try detector.detect(imageBytes: bytes, threshold: threshold) }
                print(DetectJSON.response(model: model, version: 0, result: result, names: detector.classNames))
            } catch {
                failed = true
                print(String(decoding: APIError.from(error).body, as: UTF8.self))
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// `yolo-fastest-1.1` of `path/to/yolo-fastest-1.1.cfg`.
    static func stem(of path: String, extension suffix: String = ".cfg") -> String {
        let name = Path.lastComponent(path)
        return name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
    }
}

/// Shared by `mscr detect` and `mscr bench detect`.
enum DetectCLI {
    /// Selects the GEMM instruction set (`MSCR_KERNEL_ISA`, as `mscr serve` does) and returns the
    /// threads to use: `--threads`, else `MSCR_THREADS`, else the CPU quota.
    static func configureEngine(threads option: Int?) throws -> Int {
        KernelISA.select(try KernelISA.fromEnvironment(ProcessInfo.processInfo.environment["MSCR_KERNEL_ISA"]))
        if let option { return max(1, option) }
        if let env = ProcessInfo.processInfo.environment["MSCR_THREADS"], !env.isEmpty {
            guard let n = Int(env), n > 0 else { throw ValidationError("MSCR_THREADS=\(env) is not an integer >= 1") }
            return n
        }
        return InferenceThreads.defaultCount()
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        return [UInt8](data)
    }

    /// Parses the cfg and streams the weights file through the same reader the function uses.
    static func network(cfg: String, weights: String, size: Int?) throws -> DarknetNetwork {
        let config = try DarknetConfig(text: String(decoding: try read(cfg), as: UTF8.self), width: size, height: size)
        for warning in config.warnings { StandardStream.writeError("warning: \(warning)\n") }
        var reader = DarknetWeightsReader(config: config)
        let folder = Path.deletingLastComponent(weights)
        try FileObjectStore(root: folder.isEmpty ? "." : folder).get(Path.lastComponent(weights), range: nil) {
            try reader.consume($0)
        }
        return try DarknetNetwork(config: config, layers: try reader.finish(), concurrency: 1)
    }

    static func load(
        cfg: String, weights: String, names: String, size: Int?, threshold: Float, nms: Float, maxPixels: Int
    ) throws -> DetectFunction {
        let network = try network(cfg: cfg, weights: weights, size: size)
        let classNames = DetectLoader.classNames(String(decoding: try read(names), as: UTF8.self))
        guard classNames.count >= network.classCount else {
            throw ValidationError(
                "\(names) has \(classNames.count) names, the model predicts \(network.classCount) classes")
        }
        return DetectFunction(
            network: network, classNames: classNames, modelName: Path.lastComponent(cfg), version: 0,
            threshold: threshold, nms: nms, maxPixels: maxPixels)
    }

    /// An ONNX detection export with the class names of `names`, else of its metadata.
    static func loadONNX(
        _ path: String, names: String?, threshold: Float, iou: Float, maxPixels: Int
    ) throws -> ONNXDetectFunction {
        let network = try ONNXCommand.load(path)
        var classNames: [String] = []
        if let names {
            classNames = DetectLoader.classNames(String(decoding: try read(names), as: UTF8.self))
        } else if let entry = try ONNXModelInfo.metadata(try read(path))["names"] {
            classNames = ONNXModelInfo.classNames(fromNames: entry) ?? []
        }
        do {
            return try ONNXDetectFunction(
                network: network, classNames: classNames, modelName: Path.lastComponent(path), version: 0,
                threshold: threshold, iou: iou, maxPixels: maxPixels)
        } catch let error as FunctionError {
            throw ValidationError("\(path): \(error.message)")
        }
    }
}
