import Foundation
import ObjectStore
import Synchronization
import Testing

/// `CredentialCache`: caching, refresh before expiry, single flight, failures, with a test clock.
@Suite struct CredentialCacheTests {
    /// A wall clock the test moves by hand.
    final class TestClock: Sendable {
        let time = Mutex(1_000_000.0)
        func now() -> Double { time.withLock { $0 } }
        func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
    }

    /// A fetch that counts its calls and hands out "token-N" expiring `life` seconds after now.
    final class Source: Sendable {
        let calls = Mutex(0)
        let clock: TestClock
        let life: Double?
        init(clock: TestClock, life: Double?) {
            self.clock = clock
            self.life = life
        }
        func fetch() -> (value: String, expiration: Double?) {
            let n = calls.withLock {
                $0 += 1
                return $0
            }
            return ("token-\(n)", life.map { clock.now() + $0 })
        }
        var count: Int { calls.withLock { $0 } }
    }

    @Test func anHourLongCredentialIsReusedUntilFiveMinutesBeforeItExpires() throws {
        let clock = TestClock()
        let source = Source(clock: clock, life: 3600)
        let cache = CredentialCache<String>(source: "test", now: clock.now) { source.fetch() }
        #expect(try cache.get() == "token-1")
        clock.advance(3600 - 301)
        #expect(try cache.get() == "token-1")
        #expect(source.count == 1)
        clock.advance(2)  // 299 s before expiry: inside the 5-minute margin
        #expect(try cache.get() == "token-2")
        #expect(source.count == 2)
    }

    @Test func aShortLivedCredentialIsRefreshedHalfwayThroughItsLife() throws {
        let clock = TestClock()
        let source = Source(clock: clock, life: 120)
        let cache = CredentialCache<String>(source: "test", now: clock.now) { source.fetch() }
        #expect(try cache.get() == "token-1")
        clock.advance(59)
        #expect(try cache.get() == "token-1")
        clock.advance(2)
        #expect(try cache.get() == "token-2")
        #expect(CredentialCache<String>.margin(life: 3600) == 300)
        #expect(CredentialCache<String>.margin(life: 120) == 60)
    }

    @Test func withoutExpirationItIsKeptUntilInvalidated() throws {
        let clock = TestClock()
        let source = Source(clock: clock, life: nil)
        let cache = CredentialCache<String>(source: "test", now: clock.now) { source.fetch() }
        #expect(try cache.get() == "token-1")
        clock.advance(86_400 * 30)
        #expect(try cache.get() == "token-1")
        cache.invalidate()
        #expect(try cache.get() == "token-2")
    }

    @Test func anAlreadyExpiredCredentialIsRefusedNamingTheSourceAndNotCached() throws {
        let clock = TestClock()
        let source = Source(clock: clock, life: -30)
        let cache = CredentialCache<String>(source: "the container credentials endpoint http://x", now: clock.now) {
            source.fetch()
        }
        let error = try #require(throws: ObjectStoreError.self) { try cache.get() }
        #expect(error.code == .unauthorized)
        #expect(error.message.contains("the container credentials endpoint http://x"))
        #expect(error.message.contains("expired 30 s ago"))
        _ = try? cache.get()
        #expect(source.count == 2)
    }

    @Test func aFailedFetchIsNotCached() throws {
        let failures = Mutex(1)
        let clock = TestClock()
        let cache = CredentialCache<String>(source: "test", now: clock.now) {
            if failures.withLock({ n in
                defer { n -= 1 }
                return n > 0
            }) {
                throw ObjectStoreError(.transport, "down")
            }
            return ("ok", nil)
        }
        #expect(throws: ObjectStoreError.self) { try cache.get() }
        #expect(try cache.get() == "ok")
    }

    @Test func concurrentCallersShareOneFetch() async throws {
        let clock = TestClock()
        let calls = Mutex(0)
        let inside = Mutex(0)
        let overlapped = Mutex(false)
        let cache = CredentialCache<String>(source: "test", now: clock.now) {
            calls.withLock { $0 += 1 }
            if inside.withLock({
                $0 += 1
                return $0
            }) > 1 {
                overlapped.withLock { $0 = true }
            }
            usleep(50_000)  // a slow fetch widens the window in which callers pile up (not synchronisation)
            inside.withLock { $0 -= 1 }
            return ("shared", clock.now() + 3600)
        }
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try cache.get() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: "shared", count: 8))
        #expect(calls.withLock { $0 } == 1)
        #expect(!overlapped.withLock { $0 })
    }

    @Test func iso8601TimestampsParseAndPrint() throws {
        #expect(WallClock.parseISO8601("1970-01-01T00:00:00Z") == 0)
        #expect(WallClock.parseISO8601("2026-12-06T21:00:00Z") == 1_796_590_800)
        #expect(WallClock.parseISO8601("2026-12-06T21:00:00.250Z") == 1_796_590_800.25)
        #expect(WallClock.parseISO8601("2026-12-06T22:00:00+01:00") == 1_796_590_800)
        #expect(WallClock.parseISO8601("2024-02-29T12:00:00Z") == 1_709_208_000)
        for bad in [
            "", "2026-12-06", "2026-13-06T21:00:00Z", "2026-12-06T21:00:00", "2026-12-06T21:00:00Zjunk", "yesterday",
        ] {
            #expect(WallClock.parseISO8601(bad) == nil, "\(bad)")
        }
        #expect(WallClock.describe(1_796_590_800) == "2026-12-06T21:00:00Z")
        // Against Foundation's independent parser, over a sweep of dates.
        let formatter = ISO8601DateFormatter()
        var seconds = -86_400.0 * 365 * 3
        while seconds < 86_400 * 365 * 80 {
            let text = formatter.string(from: Date(timeIntervalSince1970: seconds))
            #expect(WallClock.parseISO8601(text) == seconds, "\(text)")
            #expect(WallClock.describe(seconds) == text)
            seconds += 3_226_327
        }
    }
}
