import ArgumentParser
import Common
import Dispatch
import FoundationEssentials
import Inference
import ObjectStore

/// `mscr bench load`: one cold load of a Darknet model's weights from a model repository, in
/// one of two ways, with the process's peak RSS (run each mode in its own process):
///
/// - `stream`: what a cold start does: the weights go from the socket through the sha256 check
///   straight into the weights reader, so fetch and parse overlap and no copy of the file is kept;
/// - `download`: the verified file is read into memory first, then parsed (what a runtime
///   that downloads to a temporary file or buffer does); it reports both phases, so
///   `max(download, parse)` — the best any overlap could do — can be compared with `stream`.
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Time one cold load of a Darknet model's weights from a repository: streaming vs download-then-parse."
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable { case stream, download }

    @Option(help: "The model repository URI (file://, s3://, gs://, https://).")
    var repository: String
    @Option(help: "The model name.")
    var model: String
    @Option(help: "The version (default: latest).")
    var version: String = "latest"
    @Option(help: "stream or download.")
    var mode: Mode = .stream

    func run() throws {
        let repo = try ModelRepository.open(repository)
        let start = DispatchTime.now().uptimeNanoseconds
        func ms(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6 }
        let version = try repo.resolve(model: model, version: self.version)
        let config = try DarknetConfig(text: String(decoding: try version.read("model.cfg").bytes, as: UTF8.self))
        var reader = DarknetWeightsReader(config: config)
        var fetchMs: Double?
        var parseMs: Double?
        let bytes: Int
        let weightsStart = DispatchTime.now().uptimeNanoseconds
        switch mode {
        case .stream:
            bytes = try version.stream("model.weights") { try reader.consume($0) }.bytes
            _ = try reader.finish()
        case .download:
            let (file, _) = try version.read("model.weights")
            fetchMs = ms(since: weightsStart)
            let parseStart = DispatchTime.now().uptimeNanoseconds
            try reader.consume(file)
            _ = try reader.finish()
            parseMs = ms(since: parseStart)
            bytes = file.count
        }
        let weightsMs = ms(since: weightsStart)
        var report: [String: JSONValue] = [
            "mode": mode.rawValue.json, "model": model.json, "version": version.version.json, "bytes": bytes.json,
            "weights_ms": weightsMs.rounded(toPlaces: 3).json, "total_ms": ms(since: start).rounded(toPlaces: 3).json,
            "peak_rss_mib": Self.peakRSSMiB().json,
        ]
        if let fetchMs { report["fetch_ms"] = fetchMs.rounded(toPlaces: 3).json }
        if let parseMs { report["parse_ms"] = parseMs.rounded(toPlaces: 3).json }
        print(report.json.text())
    }

    /// VmHWM of this process, in MiB.
    static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
            return (kb / 1024 * 10).rounded() / 10
        }
        return 0
    }
}
