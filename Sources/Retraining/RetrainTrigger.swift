import Dispatch
import FoundationEssentials
import Functions
import ObjectStore

/// What to do when the observer fires. Called by `RetrainDispatcher.run()`, never on a
/// request's path; may take long (a retrain job runs for seconds).
package protocol RetrainTrigger: Sendable {
    /// For logs: "in-process retrain" or the URL.
    var description: String { get }
    /// Acts on one firing; returns a short outcome for the log (e.g. "published version 4").
    func fire(_ event: RetrainEvent) async throws -> String
}

/// Runs the retrain job in this process (on a Dispatch thread, so the training loop does not
/// occupy a Swift concurrency thread).
package struct InProcessRetrainTrigger: RetrainTrigger {
    private let job: @Sendable (RetrainEvent) throws -> RetrainReport

    /// `job` does the work (tests pass their own).
    package init(job: @escaping @Sendable (RetrainEvent) throws -> RetrainReport) {
        self.job = job
    }

    /// The usual job: read `data` (`order` for headerless rows), train `options.recipe`, compare
    /// with the serving version of `event.model` in `repository`, publish if better.
    package init(data: String, order: StockSeries.Order?, repository: ModelRepository, options: RetrainJob.Options) {
        self.job = { event in
            var options = options
            options.model = event.model
            let rows = try TrainingData.load(data, order: order).rows
            return try RetrainJob(repository: repository, options: options).run(rows: rows, source: data)
        }
    }

    package var description: String { "in-process retrain" }

    package func fire(_ event: RetrainEvent) async throws -> String {
        let job = self.job
        let report = try await offCooperativePool { try job(event) }
        return "\(report.decision): \(report.reason)"
    }
}

/// POSTs the event as JSON to a URL (`MSCR_RETRAIN_URL`): a Cloud Run Job's run endpoint, a
/// CI webhook, a Cloud Function. Success is any 2xx. Sent once (no retries: a retrain is not
/// idempotent), over libcurl on a dispatch thread, never a cooperative one.
package struct HTTPRetrainTrigger: RetrainTrigger {
    /// Sends one request; returns the status. Replaceable in tests.
    package typealias Poster = @Sendable (HTTPRequest) async throws -> Int

    package let url: String
    private let post: Poster
    private let headers: [String: String]

    package init(url: String, timeout: Double = 30, headers: [String: String] = [:], post: Poster? = nil) {
        self.url = url
        self.headers = headers
        let client = HTTPClient(configuration: .once(timeout: timeout))
        self.post = post ?? { request in try await offCooperativePool { try client.send(request).status } }
    }

    package var description: String { url }

    package func fire(_ event: RetrainEvent) async throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var request = HTTPRequest(
            method: "POST", url: url, display: url,
            headers: [("Content-Type", "application/json")]
                + headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            body: Array(try encoder.encode(event)))
        request.followRedirects = false
        let status: Int
        do {
            status = try await post(request)
        } catch {
            throw RetrainingError(.trigger, "POST \(url) failed: \(error)")
        }
        guard (200..<300).contains(status) else {
            throw RetrainingError(.trigger, "POST \(url) answered \(status)")
        }
        return "POST \(url) -> \(status)"
    }
}

/// Runs blocking `work` (a training job, a libcurl request) on a dispatch thread, never on a
/// cooperative one, and returns its result.
private func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
