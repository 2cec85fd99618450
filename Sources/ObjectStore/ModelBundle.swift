import Common
import FoundationEssentials

/// A model folder on local disk, recognised and ready to publish (`mscr publish DIR`).
///
/// - `darknet-yolo`: exactly one `*.cfg`, one `*.weights` and one `*.names` or `classes.txt`;
///   published as `model.cfg`, `model.weights` and `classes.txt`.
/// - `lstm-regressor`: a `model.json` (written by `mscr train`); published as is, and the
///   numbers under its `metadata.metrics` become the manifest's `metrics`.
/// - `onnx`: a `model.onnx`, with an optional `classes.txt`.
/// Other files in the folder are ignored; a folder matching both or neither is an error.
package struct ModelBundle: Sendable, Equatable {
    package var format: String
    /// Repository file name → local path.
    package var files: [String: String]

    package init(format: String, files: [String: String]) {
        self.format = format
        self.files = files
    }

    /// Recognises the model in `directory`.
    package static func detect(directory: String) throws -> ModelBundle {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { name in
                var isDirectory: Bool = false
                return !name.hasPrefix(".")
                    && FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
                    && !isDirectory
            }.sorted()
        } catch {
            throw ObjectStoreError(.io, "cannot read the folder \(directory): \(error)")
        }
        let cfgs = names.filter { $0.hasSuffix(".cfg") }
        let weights = names.filter { $0.hasSuffix(".weights") }
        let classes = names.filter { $0.hasSuffix(".names") || $0 == "classes.txt" }
        let darknet = !cfgs.isEmpty || !weights.isEmpty
        let lstm = names.contains("model.json")
        let onnx = names.contains("model.onnx")
        if onnx && !darknet && !lstm {
            var files = ["model.onnx": directory + "/model.onnx"]
            if names.contains("classes.txt") { files["classes.txt"] = directory + "/classes.txt" }
            return ModelBundle(format: "onnx", files: files)
        }
        if onnx {
            throw ObjectStoreError(
                .invalidKey,
                "\(directory) holds a model.onnx and another model (*.cfg/*.weights or model.json): which one is it?")
        }
        if darknet && lstm {
            throw ObjectStoreError(
                .invalidKey,
                "\(directory) holds both a Darknet model (*.cfg/*.weights) and a model.json: which one is it?")
        }
        if lstm {
            return ModelBundle(format: "lstm-regressor", files: ["model.json": directory + "/model.json"])
        }
        guard cfgs.count == 1, weights.count == 1, classes.count == 1 else {
            func found(_ list: [String]) -> String { list.isEmpty ? "none" : list.joined(separator: ", ") }
            throw ObjectStoreError(
                .invalidKey,
                """
                \(directory) is not a model folder: expected exactly one *.cfg, one *.weights and one *.names or \
                classes.txt (darknet-yolo), a model.json (lstm-regressor, from `mscr train`), or a model.onnx \
                (onnx, with an optional classes.txt); found cfg: \
                \(found(cfgs)); weights: \(found(weights)); classes: \(found(classes))
                """)
        }
        return ModelBundle(
            format: "darknet-yolo",
            files: [
                "model.cfg": directory + "/" + cfgs[0], "model.weights": directory + "/" + weights[0],
                "classes.txt": directory + "/" + classes[0],
            ])
    }

    /// Reads every file into memory, under its repository name.
    package func readFiles() throws -> [String: [UInt8]] {
        var contents: [String: [UInt8]] = [:]
        for (name, path) in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ObjectStoreError(.io, "cannot read \(path)")
            }
            contents[name] = Array(data)
        }
        return contents
    }

    /// `metadata.metrics` of an lstm-regressor's `model.json`: its numeric entries, if any.
    package static func metrics(ofModelJSON bytes: [UInt8]) -> [String: Double]? {
        guard let root = try? JSONValue.parse(bytes), let metrics = root["metadata"]?["metrics"]?.members else {
            return nil
        }
        var numbers: [String: Double] = [:]
        for (name, value) in metrics {
            if let double = value.doubleValue, double.isFinite { numbers[name] = double }
        }
        return numbers.isEmpty ? nil : numbers
    }
}
