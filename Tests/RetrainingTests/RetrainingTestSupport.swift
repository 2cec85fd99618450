import Foundation
import Functions
import Synchronization

@testable import Retraining

/// `<repo>/../shared/data/stock/goog-daily.csv`.
func googPath() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/stock/goog-daily.csv").path
}

/// GOOG rows, oldest first.
func googRows() throws -> [[Double]] {
    try TrainingData.load(googPath(), order: .newestFirst).rows
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let now = Mutex(1_000_000.0)
    var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
}

/// Events a test's `onFire` saw.
final class EventLog: Sendable {
    private let events = Mutex<[RetrainEvent]>([])
    func append(_ e: RetrainEvent) { events.withLock { $0.append(e) } }
    var all: [RetrainEvent] { events.withLock { $0 } }
}
