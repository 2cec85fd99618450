import Foundation
import ObjectStore
import Synchronization
import Testing

@testable import Retraining

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Retrain triggers and dispatcher")
struct RetrainTriggerTests {
    let event = RetrainEvent(
        function: "stock", model: "stock-lstm", version: 3, rollingRMSE: 12.5, points: 20, threshold: 10, at: 1000)

    /// Counts firings; can be held until released.
    final class CountingTrigger: RetrainTrigger {
        let fired = Mutex<[RetrainEvent]>([])
        var description: String { "counting" }
        func fire(_ event: RetrainEvent) async throws -> String {
            fired.withLock { $0.append(event) }
            return "ok"
        }
    }

    @Test("observer → dispatcher → trigger: fires once within the cooldown")
    func endToEnd() async throws {
        let trigger = CountingTrigger()
        let dispatcher = RetrainDispatcher(trigger: trigger)
        let clock = TestClock()
        let observer = PredictionObserver(
            function: "stock", model: "stock-lstm",
            policy: .init(threshold: 5, cooldown: 3600, window: 5, minPoints: 1),
            clock: clock.read, onFire: { dispatcher.submit($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            for day in 0..<50 {
                observer.recordPrediction(version: 1, day: day, lastDate: nil, predicted: 100)
                observer.recordFeedback([.init(target: .day(day), actual: 150)])
                clock.advance(60)
            }
            try await waitUntil(timeout: .seconds(10), "the retraining to complete") {
                dispatcher.status.completed >= 1
            }
            dispatcher.finish()
            try await group.waitForAll()
        }
        #expect(trigger.fired.withLock { $0.count } == 1)
        #expect(dispatcher.status.submitted == 1 && dispatcher.status.completed == 1)
        #expect(dispatcher.status.lastOutcome == "ok")
    }

    @Test("a firing submitted while one waits is dropped")
    func drops() {
        let dispatcher = RetrainDispatcher(trigger: CountingTrigger())
        #expect(dispatcher.submit(event))
        #expect(!dispatcher.submit(event))
        #expect(dispatcher.status.dropped == 1)
    }

    @Test("HTTP trigger POSTs the event as JSON; a non-2xx answer is an error")
    func http() async throws {
        let seen = Mutex<[HTTPRequest]>([])
        let status = Mutex(202)
        let trigger = HTTPRetrainTrigger(
            url: "http://127.0.0.1:9/retrain", headers: ["Authorization": "Bearer t"],
            post: { request in
                seen.withLock { $0.append(request) }
                return status.withLock { $0 }
            })
        let outcome = try await trigger.fire(event)
        #expect(outcome.contains("202"))
        let request = try #require(seen.withLock { $0.first })
        #expect(request.method == "POST")
        #expect(request.headers.first { $0.name == "Content-Type" }?.value == "application/json")
        #expect(request.headers.first { $0.name == "Authorization" }?.value == "Bearer t")
        let body = try JSONSerialization.jsonObject(with: Data(request.body ?? [])) as? [String: Any]
        #expect(body?["model"] as? String == "stock-lstm")
        #expect(body?["rolling_rmse"] as? Double == 12.5)
        status.withLock { $0 = 500 }
        await #expect(throws: RetrainingError.self) { try await trigger.fire(event) }
    }

    @Test("HTTP trigger against a closed local port fails cleanly")
    func unreachable() async {
        let trigger = HTTPRetrainTrigger(url: "http://127.0.0.1:9/retrain", timeout: 2)
        await #expect(throws: RetrainingError.self) { try await trigger.fire(event) }
    }

    @Test("in-process trigger runs the job off the caller's thread and reports its decision")
    func inProcess() async throws {
        let trigger = InProcessRetrainTrigger { e in
            var recipe = TrainingRecipe.default
            recipe.epochs = 2
            let (_, training) = try StockTrainer.train(rows: try googRows(), recipe: recipe)
            return RetrainReport(
                model: e.model, decision: "kept", reason: "test", candidateRMSE: training.testRMSE,
                naiveRMSE: training.naiveRMSE, minImprovement: 0, holdoutDays: [0, 0], training: training, seconds: 0)
        }
        let outcome = try await trigger.fire(event)
        #expect(outcome == "kept: test")
    }
}
