import Foundation
import Testing

@testable import Functions

@Suite struct FunctionConfigTests {
    /// Writes one function.json into a fresh functions folder and returns the folder.
    func folder(with json: String) throws -> (folder: String, file: String) {
        let dir = NSTemporaryDirectory() + "mscr-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/f", withIntermediateDirectories: true)
        try json.write(toFile: dir + "/f/function.json", atomically: true, encoding: .utf8)
        return (dir, dir + "/f/function.json")
    }

    @Test("the shipped configs read as before, numbers and strings for version")
    func goodConfigs() throws {
        let (dir, file) = try folder(
            with: """
                {"name": "d", "kind": "darknet-yolo", "model": "m", "version": 3,
                 "params": {"threshold": 0.3}, "limits": {"maxBodyBytes": 100, "maxPixels": 0, "concurrency": 2}}
                """)
        let configs = try FunctionConfig.loadAll(from: dir)
        #expect(configs.count == 1)
        #expect(
            configs[0].version == "3" && configs[0].params["threshold"] == 0.3 && configs[0].limits.concurrency == 2)
        #expect(configs[0].source == file)
        let shipped = try FunctionConfig.loadAll(from: #filePath.components(separatedBy: "/Tests/")[0] + "/functions")
        #expect(shipped.map(\.kind).sorted() == ["darknet-yolo", "lstm-regressor"])
    }

    @Test(
        "a bad function.json names the file, the key and what is allowed",
        arguments: [
            (
                #"{"name": "f", "kind": "k", "model": "m", "versoin": 2}"#,
                #""versoin" is not a known key (allowed: name, kind, model, version, params, limits)"#
            ),
            (
                #"{"name": "f", "kind": "k", "model": "m", "version": true}"#,
                #""version" must be "latest", a positive version number or an alias"#
            ),
            (#"{"name": "f", "kind": "k", "model": "m", "version": "../2"}"#, #""version" must be "latest""#),
            (#"{"name": "f", "kind": "k", "model": "m", "version": 0}"#, #""version" must be "latest""#),
            (#"{"name": "f", "kind": "k"}"#, #""model" must be the model's name in the repository"#),
            (
                #"{"name": "f", "kind": "k", "model": "m", "params": {"threshold": "high"}}"#,
                #""params" must be an object of numbers"#
            ),
            (
                #"{"name": "f", "kind": "k", "model": "m", "limits": {"concurrency": 0}}"#,
                #""limits.concurrency" must be an integer >= 1"#
            ),
            (
                #"{"name": "f", "kind": "k", "model": "m", "limits": {"maxBody": 5}}"#,
                #""limits.maxBody" is not a known key"#
            ),
            (#"[1, 2]"#, "is not a valid function config (a JSON object)"),
        ])
    func badConfigs(_ json: String, _ expected: String) throws {
        let (dir, file) = try folder(with: json)
        let error = try #require(throws: FunctionError.self) { try FunctionConfig.loadAll(from: dir) }
        #expect(error.code == .invalidInput)
        #expect(error.message.hasPrefix(file), "\(error.message)")
        #expect(error.message.contains(expected), "\(error.message)")
    }

    @Test("an unknown kind names the file and the registered kinds")
    func unknownKind() throws {
        let (dir, file) = try folder(with: #"{"name": "f", "kind": "yolo", "model": "m"}"#)
        let configs = try FunctionConfig.loadAll(from: dir)
        let (_, repo) = try makeRepository()
        let error = try #require(throws: FunctionError.self) {
            _ = try CountingHost(configs: configs, kinds: [CountingKind()], repository: repo)
        }
        #expect(error.message == "\(file): \"kind\" 'yolo' is not a registered kind (known: counting)")
    }
}
