import Foundation
import ObjectStore
import Testing

/// `mscr publish` folder detection and `mscr models seed` (the logic behind both commands).
@Suite struct ModelBundleTests {
    func folder(_ files: [String: String]) throws -> String {
        let directory = try temporaryDirectory("bundle")
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        return directory
    }

    @Test(arguments: ["coco.names", "classes.txt"])
    func aDarknetFolderIsRenamedToTheRepositoryNames(classes: String) throws {
        let directory = try folder(["yolo.cfg": "[net]", "yolo.weights": "w", classes: "person", "README.md": "x"])
        let bundle = try ModelBundle.detect(directory: directory)
        #expect(bundle.format == "darknet-yolo")
        #expect(
            bundle.files == [
                "model.cfg": directory + "/yolo.cfg", "model.weights": directory + "/yolo.weights",
                "classes.txt": directory + "/" + classes,
            ])
        #expect(try bundle.readFiles()["classes.txt"] == Array("person".utf8))
    }

    @Test func aTrainedFolderIsAnLSTMRegressorAndItsMetricsAreKept() throws {
        let json =
            #"{"magic": "mscr-lstm-regressor", "metadata": {"metrics": {"test_rmse": 12.5, "epochs": 3, "note": "x"}}}"#
        let bundle = try ModelBundle.detect(directory: try folder(["model.json": json]))
        #expect(bundle.format == "lstm-regressor")
        #expect(bundle.files.keys.sorted() == ["model.json"])
        #expect(ModelBundle.metrics(ofModelJSON: Array(json.utf8)) == ["test_rmse": 12.5, "epochs": 3])
    }

    @Test(arguments: [
        ["a.cfg": "", "b.cfg": "", "w.weights": "", "c.names": ""],
        ["a.cfg": "", "c.names": ""],
        ["readme.txt": ""],
        ["a.cfg": "", "w.weights": "", "c.names": "", "model.json": "{}"],
    ])
    func anythingElseIsRefusedWithWhatWasFound(files: [String: String]) throws {
        let error = try #require(throws: ObjectStoreError.self) { try ModelBundle.detect(directory: try folder(files)) }
        #expect(error.message.contains("cfg") || error.message.contains("model.json"))
    }

    @Test func seedingFromSharedDataIsVerifiedAndIdempotent() throws {
        let sharedData = try #require(
            DemoModels.locateSharedData(explicit: nil, currentDirectory: Repo.root), "../shared/data must exist")
        let repository = ModelRepository(store: FileObjectStore(root: try temporaryDirectory("seed")))
        let model = try #require(DemoModels.detection.first)
        let first = try DemoModels.seed(model, into: repository, sharedData: sharedData)
        #expect(first.action == "published" && first.version == 1)
        let version = try repository.resolve(model: model.name, version: "latest")
        #expect(version.manifest.format == "darknet-yolo")
        #expect(version.manifest.files["model.weights"]?.sha256 == model.files[1].sha256)
        #expect(try version.read("classes.txt").bytes.count == 625)
        let second = try DemoModels.seed(model, into: repository, sharedData: sharedData)
        #expect(second.action == "skipped" && second.version == 1)
        #expect(try repository.versions(of: model.name) == [1])
        #expect(try DemoModels.stockData(sharedData: sharedData).bytes.count == DemoModels.stockCSV.size)
    }

    @Test func aFailedDownloadSaysWhatFailed() throws {
        var model = try #require(DemoModels.detection.first)
        model.downloadBase = "http://127.0.0.1:1/nowhere"
        let repository = ModelRepository(store: MemoryObjectStore())
        let error = try #require(throws: ObjectStoreError.self) {
            try DemoModels.seed(model, into: repository, sharedData: nil, transport: testTransport(attempts: 1))
        }
        #expect(error.message.contains("yolo-fastest-1.1.cfg"))
        #expect(error.message.contains("the download failed"))
        // Nothing answered at all (connection refused): the message puts the network first.
        #expect(error.message.contains("the network is unreachable"))
        #expect(try repository.versions(of: model.name).isEmpty)
    }
}
