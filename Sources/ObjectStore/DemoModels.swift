import Common
import FoundationEssentials

/// The demo models of `mscr models seed`, with the sizes and sha256 sums every copy is checked
/// against, wherever it comes from (`../shared/data` or the public download).
package enum DemoModels {
    /// One file of a demo model.
    package struct File: Sendable {
        /// Its name in the repository (`model.weights`).
        package var name: String
        /// Its name upstream and in the shared data folder (`yolo-fastest-1.1.weights`).
        package var source: String
        package var size: Int
        package var sha256: String
        /// Whole URLs to try, in order, after `<downloadBase>/<source>` failed.
        package var fallbackURLs: [String]

        package init(name: String, source: String, size: Int, sha256: String, fallbackURLs: [String] = []) {
            self.name = name
            self.source = source
            self.size = size
            self.sha256 = sha256
            self.fallbackURLs = fallbackURLs
        }
    }

    /// A demo model: name, format, files; found in `<shared>/models/<directory>` or under `downloadBase`.
    package struct Model: Sendable {
        package var name: String
        package var format: String
        package var directory: String
        package var downloadBase: String
        package var files: [File]

        package init(name: String, format: String, directory: String, downloadBase: String, files: [File]) {
            self.name = name
            self.format = format
            self.directory = directory
            self.downloadBase = downloadBase
            self.files = files
        }
    }

    /// What `seed` did with one model.
    package struct Outcome: Sendable, Equatable {
        package var model: String
        /// `published` or `skipped`.
        package var action: String
        package var version: Int
        /// Where the bytes came from, or why it was skipped.
        package var detail: String

        package init(model: String, action: String, version: Int, detail: String) {
            self.model = model
            self.action = action
            self.version = version
            self.detail = detail
        }
    }

    static let yoloBase = "https://github.com/dog-qiuqiu/Yolo-Fastest/raw/master/ModelZoo/yolo-fastest-1.1_coco"
    static let cocoNames = "634a1132eb33f8091d60f2c346ababe8b905ae08387037aed883953b7329af84"
    /// Darknet forks keep the COCO class names in `data/`.
    static let cocoFallbacks = [
        "https://github.com/dog-qiuqiu/Yolo-Fastest/raw/master/data/coco.names",
        "https://github.com/pjreddie/darknet/raw/master/data/coco.names",
    ]

    /// Yolo-Fastest 1.1 and its XL variant (COCO, Darknet format).
    package static let detection: [Model] = [
        Model(
            name: "yolo-fastest-1.1", format: "darknet-yolo", directory: "yolo-fastest-1.1", downloadBase: yoloBase,
            files: [
                File(
                    name: "model.cfg", source: "yolo-fastest-1.1.cfg", size: 9685,
                    sha256: "f6df5775c1e862998cf69046eba9265be3ae84dfe8b2caab7529823f0795bf70"),
                File(
                    name: "model.weights", source: "yolo-fastest-1.1.weights", size: 1_384_268,
                    sha256: "1c445c42bbd6df63edea2cc69f99667b5650d663ca11e34b116240740cd42890"),
                File(
                    name: "classes.txt", source: "coco.names", size: 625, sha256: cocoNames, fallbackURLs: cocoFallbacks
                ),
            ]),
        Model(
            name: "yolo-fastest-1.1-xl", format: "darknet-yolo", directory: "yolo-fastest-1.1-xl",
            downloadBase: yoloBase,
            files: [
                File(
                    name: "model.cfg", source: "yolo-fastest-1.1-xl.cfg", size: 9696,
                    sha256: "c458427acc4fbeabceff4528ef7b65b066c0308ce599460f8ba299eba63abad3"),
                File(
                    name: "model.weights", source: "yolo-fastest-1.1-xl.weights", size: 3_693_964,
                    sha256: "fac5fb41786c1f38f04972a658443b189f48720d7d117f9a044100e98a35b0c5"),
                File(
                    name: "classes.txt", source: "coco.names", size: 625, sha256: cocoNames, fallbackURLs: cocoFallbacks
                ),
            ]),
    ]

    /// The stock data the `stock-lstm` demo model is trained on: `<shared>/stock/goog-daily.csv`,
    /// or DeepLearningZeroToAll's `data-02-stock_daily.csv` (the same bytes).
    package static let stockCSV = File(
        name: "goog-daily.csv", source: "data-02-stock_daily.csv", size: 37037,
        sha256: "a0ebd202da621b20c04253178714ca05147ffd8f712f8adafd38cee78e38a334")
    static let stockBase = "https://raw.githubusercontent.com/hunkim/DeepLearningZeroToAll/master"

    /// The shared data folder: `explicit` (a `shared` or `shared/data` folder), else
    /// `<cwd>/../shared/data`, else `<cwd>/shared/data`; nil when none has a `models` folder.
    package static func locateSharedData(explicit: String?, currentDirectory: String) -> String? {
        let candidates =
            explicit.map { [$0 + "/data", $0] }
            ?? [currentDirectory + "/../shared/data", currentDirectory + "/shared/data"]
        for candidate in candidates {
            var isDirectory: Bool = false
            if FileManager.default.fileExists(atPath: candidate + "/models", isDirectory: &isDirectory), isDirectory {
                return Path.standardized(candidate)
            }
        }
        return nil
    }

    /// Publishes `model` as version 1 unless it already has a version. Files come from
    /// `sharedData` when it holds them, else from the public download; either way each is
    /// checked against its size and sha256 first.
    package static func seed(
        _ model: Model, into repository: ModelRepository, sharedData: String?,
        transport: TransportConfiguration = TransportConfiguration(), progress: ((String) -> Void)? = nil
    ) throws -> Outcome {
        if let existing = try repository.versions(of: model.name).last {
            return Outcome(
                model: model.name, action: "skipped", version: existing, detail: "already has version \(existing)")
        }
        var files: [String: [UInt8]] = [:]
        var sources: Set<String> = []
        for file in model.files {
            let (bytes, source) = try fetch(
                file, localDirectory: sharedData.map { $0 + "/models/" + model.directory },
                downloadBase: model.downloadBase,
                transport: transport, progress: progress)
            files[file.name] = bytes
            sources.insert(source)
        }
        let source = sources.sorted().joined(separator: ", ")
        try repository.publish(model: model.name, version: 1, format: model.format, files: files, source: source)
        return Outcome(model: model.name, action: "published", version: 1, detail: "from \(source)")
    }

    /// The stock CSV's bytes and where they came from, verified.
    package static func stockData(
        sharedData: String?, transport: TransportConfiguration = TransportConfiguration(),
        progress: ((String) -> Void)? = nil
    ) throws -> (bytes: [UInt8], source: String) {
        try fetch(
            stockCSV, localDirectory: sharedData.map { $0 + "/stock" }, localName: stockCSV.name,
            downloadBase: stockBase,
            transport: transport, progress: progress)
    }

    /// One file from `localDirectory` (by its source name, or `localName`) or else downloaded.
    static func fetch(
        _ file: File, localDirectory: String?, localName: String? = nil, downloadBase: String,
        transport: TransportConfiguration, progress: ((String) -> Void)?
    ) throws -> (bytes: [UInt8], source: String) {
        if let localDirectory {
            let path = localDirectory + "/" + (localName ?? file.source)
            if let data = FileManager.default.contents(atPath: path) {
                let bytes = Array(data)
                try verify(bytes, file, origin: path)
                return (bytes, Path.standardized(localDirectory))
            }
        }
        var failures: [ObjectStoreError] = []
        for url in [downloadBase + "/" + file.source] + file.fallbackURLs {
            do {
                return (try download(file, url: url, transport: transport, progress: progress), url)
            } catch let error as ObjectStoreError {
                failures.append(error)
            }
        }
        let looked = localDirectory.map { "no local copy in \($0), and " } ?? "no shared data folder, and "
        // Only transport failures (no HTTP answer at all): the network is the problem, say so first.
        let unreachable = !failures.isEmpty && failures.allSatisfy { $0.code == .transport }
        let what =
            unreachable
            ? "the download failed: the network is unreachable (no download site answered; give --shared DIR with the demo files, or retry online)"
            : "the download failed"
        throw ObjectStoreError(
            .transport, "\(file.source): \(looked)\(what): " + failures.map(\.message).joined(separator: "; "))
    }

    /// Downloads `url` and checks it against `file`'s size and sha256.
    static func download(
        _ file: File, url: String, transport: TransportConfiguration, progress: ((String) -> Void)?
    ) throws -> [UInt8] {
        guard let slash = url.lastIndex(of: "/") else { throw ObjectStoreError(.invalidURI, "bad URL \(url)") }
        progress?("downloading \(url) (\(file.size) bytes)")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(file.size)
        let store = try HTTPObjectStore(root: String(url[..<slash]), configuration: transport)
        try store.get(String(url[url.index(after: slash)...]), range: nil) { chunk in
            guard bytes.count + chunk.count <= file.size else {
                throw ObjectStoreError(.integrity, "\(url): more than the expected \(file.size) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        try verify(bytes, file, origin: url)
        return bytes
    }

    static func verify(_ bytes: [UInt8], _ file: File, origin: String) throws {
        guard bytes.count == file.size else {
            throw ObjectStoreError(
                .integrity, "\(origin): size mismatch: expected \(file.size) bytes, got \(bytes.count)")
        }
        let actual = SHA256Digest.hex(of: bytes)
        guard actual == file.sha256 else {
            throw ObjectStoreError(.integrity, "\(origin): sha256 mismatch: expected \(file.sha256), got \(actual)")
        }
    }
}
