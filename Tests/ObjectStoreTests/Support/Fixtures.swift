import Foundation
import ObjectStore

/// The real servers, each started once per test process on first use and shared by every test
/// (tests keep apart by using unique keys). A server that cannot start fails the tests that
/// need it, with the reason.
enum Fixtures {
    static let moto = Result { try Moto() }
    static let gcs = Result { try GCS() }
    static let fault = Result { try ServerProcess(script: "fault_server.py", arguments: ["--stall-seconds", "20"]) }
    static let metadata = Result { try ServerProcess(script: "metadata_server.py") }

    /// moto with signature checking on and one IAM access key.
    struct Moto: Sendable {
        let server: ServerProcess
        let bucket = "mscr-test"
        var endpoint: String { server.info["endpoint"] ?? "" }
        var accessKey: String { server.info["access_key"] ?? "" }
        var secretKey: String { server.info["secret_key"] ?? "" }

        init() throws {
            server = try ServerProcess(script: "start_moto.py", arguments: ["--bucket", "mscr-test"])
        }

        /// The environment `ObjectStores.open("s3://…")` needs.
        func environment(secret: String? = nil) -> [String: String] {
            [
                "AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secret ?? secretKey,
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "MSCR_STORE_RETRIES": "2",
                "MSCR_STORE_DEADLINE": "20",
            ]
        }

        func store(prefix: String, secret: String? = nil) throws -> S3ObjectStore {
            try S3ObjectStore(
                bucket: bucket, prefix: prefix, region: "us-east-1", endpoint: endpoint,
                credentials: .init(accessKeyID: accessKey, secretAccessKey: secret ?? secretKey),
                configuration: testTransport())
        }
    }

    /// gcp-storage-emulator, in memory.
    struct GCS: Sendable {
        let server: ServerProcess
        let bucket = "mscr-test"
        var endpoint: String { server.info["endpoint"] ?? "" }

        init() throws {
            server = try ServerProcess(script: "start_gcs.py", arguments: ["--bucket", "mscr-test"])
        }

        func store(prefix: String, tokens: GCSTokenProvider = .none) throws -> GCSObjectStore {
            try GCSObjectStore(
                bucket: bucket, prefix: prefix, endpoint: endpoint, tokens: tokens, configuration: testTransport())
        }
    }
}

extension ServerProcess {
    /// Uploads an object to the fault server (`PUT /_objects/<key>`).
    func upload(_ key: String, _ bytes: [UInt8]) throws {
        let client = HTTPClient(configuration: testTransport())
        let response = try client.send(
            HTTPRequest(method: "PUT", url: "http://127.0.0.1:\(port)/_objects/\(key)", display: key, body: bytes))
        guard response.isSuccess else {
            throw TestSetupError(description: "fault server refused \(key): \(response.status)")
        }
    }

    /// The fault server's log of requests whose path contains `text`.
    func requests(containing text: String) throws -> [[String: String]] {
        let client = HTTPClient(configuration: testTransport())
        let response = try client.send(
            HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/_log?contains=\(text)", display: "log"))
        let entries = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
        return entries.map { $0.compactMapValues { $0 is NSNull ? nil : "\($0)" } }
    }

    /// An `http://` store on the fault server under `scenario`.
    func store(_ scenario: String, transport: TransportConfiguration = testTransport()) throws -> HTTPObjectStore {
        try HTTPObjectStore(root: "http://127.0.0.1:\(port)/\(scenario)", configuration: transport)
    }
}
