import Common
import FoundationEssentials
import ObjectStore
import Synchronization

/// The original experiment as a tool: `users` threads, each with its own libcurl handle
/// (one kept-alive connection), send `requests` requests in total as fast as they can, or
/// paced to a global `rate`, with an optional think time between a user's requests.
struct LoadRunner: Sendable {
    var request: HTTPRequest
    var options: TimedHTTPClient.Options
    var users: Int
    var requests: Int
    /// Requests per second over all users; nil: no limit.
    var rate: Double?
    var thinkMs: Double
    /// No request starts after this many seconds.
    var durationCap: Double

    func run() -> LoadReport {
        let shared = LoadShared()
        let start = Stopwatch.ms()
        let plan = self
        var threads: [OSThread.Joinable] = []
        for _ in 0..<users {
            threads.append(
                OSThread.startJoinable(stackSize: 1 << 20) {
                    let tally = plan.user(start: start, shared: shared)
                    shared.tallies.withLock { $0.append(tally) }
                })
        }
        // Joined, not just counted down: each user thread's exit (OpenSSL's per-thread state,
        // the allocator's cache) must be over before the process can exit and run OpenSSL's
        // cleanup (a race between the two corrupted the heap about once in 30 runs).
        while let thread = threads.popLast() { thread.join() }
        let tallies = shared.tallies.withLock { $0 }
        return LoadReport(tallies: tallies, planned: requests, start: start, end: Stopwatch.ms())
    }

    /// One user's loop: take a ticket, wait for its slot (with a rate), send, think.
    private func user(start: Double, shared: LoadShared) -> UserTally {
        var tally = UserTally()
        let client: TimedHTTPClient
        do {
            client = try TimedHTTPClient(options: options)
        } catch {
            tally.setupError = "\(error)"
            return tally
        }
        let deadline = start + durationCap * 1000
        while true {
            let ticket = shared.tickets.withLock { n -> Int? in
                guard n < requests else { return nil }
                n += 1
                return n - 1
            }
            guard let ticket else { break }
            if let rate {
                let slot = start + Double(ticket) * 1000 / rate
                Stopwatch.sleep(ms: slot - Stopwatch.ms())
            }
            if Stopwatch.ms() >= deadline { break }
            tally.sent += 1
            let result: TimedHTTPResult
            do {
                result = try client.send(request)
            } catch {
                tally.count(error: "other", message: "\(error)")
                continue
            }
            tally.record(result)
            tally.lastEnd = Stopwatch.ms()
            if thinkMs > 0 { Stopwatch.sleep(ms: thinkMs) }
        }
        return tally
    }
}

/// The state the users share: the next ticket, and each user's tally when it is done.
private final class LoadShared: Sendable {
    let tickets = Mutex(0)
    let tallies = Mutex<[UserTally]>([])
}

/// What one user saw.
struct UserTally: Sendable {
    var sent = 0
    var latencies: [Double] = []
    var statuses: [Int: Int] = [:]
    var errors: [String: Int] = [:]
    var messages: [String] = []
    var serverTotal: [Double] = []
    var serverQueue: [Double] = []
    var serverInfer: [Double] = []
    var cold = 0
    var connections = 0
    var lastEnd: Double?
    var setupError: String?

    mutating func record(_ result: TimedHTTPResult) {
        connections += result.timing.newConnections
        if let failure = result.failure {
            count(error: failure.kind.rawValue, message: failure.message)
            return
        }
        latencies.append(result.timing.totalMs)
        statuses[result.status, default: 0] += 1
        let timing = ServerTimingHeader(result.header("server-timing"))
        if let t = timing["total"] { serverTotal.append(t) }
        if let q = timing["queue"] { serverQueue.append(q) }
        if let i = timing["infer"] { serverInfer.append(i) }
        if timing.isCold { cold += 1 }
        switch result.status {
        case 200..<300: break
        case 400..<500:
            count(error: "4xx", message: "HTTP \(result.status) " + (InvokeCommand.errorSummary(result.body) ?? ""))
        case 500..<600:
            count(error: "5xx", message: "HTTP \(result.status) " + (InvokeCommand.errorSummary(result.body) ?? ""))
        default: count(error: "other_status", message: "HTTP \(result.status)")
        }
    }

    mutating func count(error kind: String, message: String) {
        errors[kind, default: 0] += 1
        if messages.count < 5, !messages.contains(message) { messages.append(message) }
    }
}

/// The merged result of a load run.
struct LoadReport {
    static let errorKinds = ["connect", "timeout", "tls", "broken", "other", "4xx", "5xx", "other_status"]

    var planned: Int
    var sent = 0
    var latencies: Distribution
    var statuses: [Int: Int] = [:]
    var errors: [String: Int] = [:]
    var messages: [String] = []
    var serverTotal: Distribution
    var serverQueue: Distribution
    var serverInfer: Distribution
    var cold = 0
    var connections = 0
    /// First request sent → last answer received, seconds.
    var seconds: Double

    init(tallies: [UserTally], planned: Int, start: Double, end: Double) {
        self.planned = planned
        var latencies: [Double] = []
        var total: [Double] = []
        var queue: [Double] = []
        var infer: [Double] = []
        var lastEnd = start
        for t in tallies {
            sent += t.sent
            latencies += t.latencies
            total += t.serverTotal
            queue += t.serverQueue
            infer += t.serverInfer
            cold += t.cold
            connections += t.connections
            statuses.merge(t.statuses, uniquingKeysWith: +)
            errors.merge(t.errors, uniquingKeysWith: +)
            for m in t.messages where messages.count < 5 && !messages.contains(m) { messages.append(m) }
            if let setup = t.setupError, !messages.contains(setup) { messages.append(setup) }
            lastEnd = max(lastEnd, t.lastEnd ?? start)
        }
        self.latencies = Distribution(latencies)
        serverTotal = Distribution(total)
        serverQueue = Distribution(queue)
        serverInfer = Distribution(infer)
        seconds = max(lastEnd - start, 1e-3) / 1000
        if lastEnd == start { seconds = max(end - start, 1e-3) / 1000 }
    }

    var failed: Int { errors.values.reduce(0, +) }
    var succeeded: Int { sent - failed }
    var notSent: Int { planned - sent }
    var answered: Int { statuses.values.reduce(0, +) }
    var requestsPerSecond: Double { Double(sent) / seconds }
}
