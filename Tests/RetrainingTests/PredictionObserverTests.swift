import Functions
import Synchronization
import Testing

@testable import Retraining

@Suite("Observer: rolling error per version and the trigger policy")
struct PredictionObserverTests {
    func observer(threshold: Double? = 5, cooldown: Double = 600, window: Int = 4, minPoints: Int = 2, clock: TestClock)
        -> (PredictionObserver, EventLog)
    {
        let fired = EventLog()
        let o = PredictionObserver(
            function: "stock", model: "stock-lstm",
            policy: .init(threshold: threshold, cooldown: cooldown, window: window, minPoints: minPoints),
            clock: clock.read,
            onFire: { e in fired.append(e) })
        return (o, fired)
    }

    /// Forecast day `day` at `predicted`, then report `actual`.
    func settle(_ o: PredictionObserver, day: Int, predicted: Double, actual: Double, version: Int = 1)
        -> PredictionObserver.FeedbackResult
    {
        o.recordPrediction(version: version, day: day, lastDate: nil, predicted: predicted)
        return o.recordFeedback([.init(target: .day(day), actual: actual)])
    }

    @Test("rolling RMSE over the last N settled forecasts")
    func rolling() {
        let clock = TestClock()
        let (o, _) = observer(threshold: nil, clock: clock)
        for (k, e) in [10.0, 1, 2, 3, 4].enumerated() { _ = settle(o, day: k, predicted: 100 + e, actual: 100) }
        let s = o.snapshot()
        #expect(s.servingVersion == 1)
        let v = s.serving!
        #expect(v.points == 4 && v.feedback == 5 && v.predictions == 5)
        // The first error (10) fell out of the window of 4.
        #expect(abs(v.rollingRMSE! - ((1.0 + 4 + 9 + 16) / 4).squareRoot()) < 1e-9)
        #expect(o.recordFeedback([.init(target: .day(99), actual: 1)]).unmatched == 1)
        #expect(o.snapshot().unmatched == 1)
    }

    @Test("past the threshold the trigger fires exactly once within the cooldown, and again after it")
    func firesOnce() {
        let clock = TestClock()
        let (o, fired) = observer(clock: clock)
        #expect(settle(o, day: 0, predicted: 100, actual: 101).fired == nil)  // RMSE 1: fine
        #expect(settle(o, day: 1, predicted: 100, actual: 120).fired != nil)  // RMSE ~14: fires
        for day in 2..<30 {
            clock.advance(10)
            #expect(settle(o, day: day, predicted: 100, actual: 130).fired == nil)
        }
        #expect(fired.all.count == 1)
        let event = fired.all[0]
        #expect(event.version == 1 && event.model == "stock-lstm" && event.function == "stock")
        #expect(event.rollingRMSE > 5 && event.points == 2 && event.threshold == 5)
        clock.advance(600)
        #expect(settle(o, day: 30, predicted: 100, actual: 130).fired != nil)
        #expect(fired.all.count == 2)
        #expect(o.snapshot().fired == 2)
    }

    @Test("below the threshold, or with too few points, nothing fires")
    func quiet() {
        let clock = TestClock()
        let (o, fired) = observer(threshold: 5, minPoints: 3, clock: clock)
        #expect(settle(o, day: 0, predicted: 100, actual: 150).fired == nil)  // 1 point < minPoints
        #expect(settle(o, day: 1, predicted: 100, actual: 150).fired == nil)  // 2 points
        let (calm, calmFired) = observer(threshold: 5, clock: clock)
        for day in 0..<20 { _ = settle(calm, day: day, predicted: 100, actual: 104) }
        #expect(fired.all.isEmpty && calmFired.all.isEmpty)
        let (never, neverFired) = observer(threshold: nil, clock: clock)
        for day in 0..<10 { _ = settle(never, day: day, predicted: 100, actual: 900) }
        #expect(neverFired.all.isEmpty)
    }

    @Test("each version is scored on its own forecasts; the newest version is the serving one")
    func versions() {
        let clock = TestClock()
        let (o, fired) = observer(threshold: 5, clock: clock)
        for day in 0..<3 {
            o.recordPrediction(version: 1, day: day, lastDate: nil, predicted: 100)
            o.recordPrediction(version: 2, day: day, lastDate: nil, predicted: 121)
            o.recordFeedback([.init(target: .day(day), actual: 120)])
        }
        let s = o.snapshot()
        #expect(s.servingVersion == 2)
        #expect(s.versions.map(\.version) == [1, 2])
        #expect(abs(s.versions[0].rollingRMSE! - 20) < 1e-9)
        #expect(abs(s.serving!.rollingRMSE! - 1) < 1e-9)
        #expect(fired.all.isEmpty, "v1 is bad but v2 serves and is fine")
    }

    @Test("a dated actual settles the forecast made from the latest series before that date")
    func dates() {
        let clock = TestClock()
        let (o, _) = observer(threshold: nil, clock: clock)
        o.recordPrediction(version: 1, day: 50, lastDate: "2017-01-30", predicted: 800)
        o.recordPrediction(version: 1, day: 51, lastDate: "2017-01-31", predicted: 810)
        let r = o.recordFeedback([.init(target: .date("2017-02-01"), actual: 812)])
        #expect(r.matched == 1)
        #expect(abs(o.snapshot().serving!.rollingRMSE! - 2) < 1e-9)
        // Nothing dated before 2017-01-01.
        #expect(o.recordFeedback([.init(target: .date("2017-01-01"), actual: 1)]).unmatched == 1)
    }

    @Test("concurrent predictions and feedback from many tasks stay consistent")
    func concurrent() async {
        let clock = TestClock()
        let (o, fired) = observer(threshold: 5, cooldown: 1e9, window: 1000, clock: clock)
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for k in 0..<100 {
                        let day = t * 1000 + k
                        o.recordPrediction(version: 1, day: day, lastDate: nil, predicted: 100)
                        o.recordFeedback([.init(target: .day(day), actual: 110)])
                    }
                }
            }
        }
        let s = o.snapshot()
        #expect(s.serving?.feedback == 800 && s.serving?.predictions == 800)
        #expect(fired.all.count == 1)
    }
}
