import FoundationEssentials
internal import Functions
internal import Hummingbird
internal import HummingbirdTesting
public import Logging
public import MSCRFunctions
internal import Runtime

/// Runs an ``InferenceFunction`` without a socket, through the real runtime: the function host
/// (lazy single-flight load from a real repository, admission, deadline), the HTTP routes and
/// the runtime's request and response codecs. What a test sees is what a client of
/// `POST /functions/<name>` would.
///
/// ```swift
/// let repository = try TestRepository(publishing: modelFolder, as: "yolo-fastest-1.1")
/// defer { repository.remove() }
/// try await FunctionTester.run(CountPeople.self, model: "yolo-fastest-1.1", repository: repository.uri) { client in
///     let response = try await client.invoke(image: jpegBytes, query: ["atLeast": "2"])
///     #expect(response.status == 200)
///     #expect(response.output?.people == 3)
/// }
/// ```
public enum FunctionTester {
    /// How the test client reaches the server.
    public enum Transport: Sendable {
        /// Straight into the router, no socket (fast; the default).
        case router
        /// Over a real HTTP connection to the server listening on a free port of 127.0.0.1.
        case live
    }

    /// Serves `function` as a function named `name` (default: its kind) over `model` from
    /// `repository` (a repository URI: `file:///…`, `s3://…`, …), calls `body` with a client,
    /// then removes the temporary functions folder.
    /// - Parameters:
    ///   - params: the `params` of the function's `function.json`.
    ///   - maxPixels, maxBodyBytes, concurrency: its `limits` (runtime defaults when nil).
    ///   - requestTimeout: the deadline of one request, cold load included.
    ///   - logger: where the runtime logs (default: nowhere).
    ///   - transport: ``Transport/router`` (default) or ``Transport/live`` (a real socket).
    @discardableResult
    public static func run<Function: InferenceFunction, Value: Sendable>(
        _ function: Function.Type, model: String, repository: String, version: String = "latest",
        name: String? = nil, params: [String: Double] = [:], maxPixels: Int? = nil, maxBodyBytes: Int? = nil,
        concurrency: Int? = nil, requestTimeout: Duration = .seconds(60),
        logger: Logger = Logger(label: "mscr-testing") { _ in SwiftLogNoOpLogHandler() },
        transport: Transport = .router,
        _ body: @Sendable (FunctionTestClient<Function>) async throws -> Value
    ) async throws -> Value {
        let name = name ?? Function.kind
        var limits = FunctionConfig.Limits()
        if let maxPixels { limits.maxPixels = maxPixels }
        if let maxBodyBytes { limits.maxBodyBytes = maxBodyBytes }
        if let concurrency { limits.concurrency = concurrency }
        let config = FunctionConfig(
            name: name, kind: Function.kind, model: model, version: version, params: params, limits: limits)
        let root = TestRepository.temporaryPath("mscr-function-test")
        let fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        try fm.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(config).write(to: URL(fileURLWithPath: root + "/" + name + "/function.json"))

        var configuration = RuntimeConfiguration()
        configuration.port = 0
        configuration.host = "127.0.0.1"
        configuration.functionsDirectory = root
        configuration.modelRepository = repository
        configuration.hostSettings.requestTimeout = requestTimeout
        let server = try MSCRServer(
            configuration: configuration, logger: logger, extraKinds: try TypedFunctionKinds.make([Function.self]))
        let app = server.makeApplication(router: server.makeRouter())
        return try await app.test(transport == .live ? .live : .router) { client in
            try await body(FunctionTestClient(client: client, name: name))
        }
    }
}
