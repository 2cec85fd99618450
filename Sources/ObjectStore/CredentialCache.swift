import Synchronization

/// Caches a credential that expires (AWS session keys, OAuth access tokens) and fetches a new
/// one shortly before it does: 5 minutes before, or halfway through its life when it lives
/// less than 10 minutes. A credential without an expiration is kept until `invalidate()`.
///
/// Fetches are single-flight: the lock is held while fetching, so callers that arrive during
/// a fetch wait for it and share its answer instead of each making their own. A failed fetch
/// is not cached (the next caller tries again). Time comes from `now` (wall-clock seconds since
/// 1970, as `Expiration` fields are), which tests replace.
package final class CredentialCache<Value: Sendable>: Sendable {
    /// What a fetch returns: the value and when it expires (seconds since 1970), if it does.
    package typealias Fetched = (value: Value, expiration: Double?)

    private let fetch: @Sendable () throws -> Fetched
    private let now: @Sendable () -> Double
    /// Describes the source in errors ("the ECS container endpoint http://…").
    private let source: String
    private let entry = Mutex<(value: Value, refreshAt: Double)?>(nil)

    /// Seconds before expiry at which a long-lived credential is refreshed.
    package static var refreshMargin: Double { 300 }

    package init(
        source: String, now: @escaping @Sendable () -> Double = WallClock.seconds,
        fetch: @escaping @Sendable () throws -> Fetched
    ) {
        self.source = source
        self.now = now
        self.fetch = fetch
    }

    /// The cached value, or a fresh one when there is none or it is due for refresh.
    package func get() throws -> Value {
        try entry.withLock { entry in
            let time = now()
            if let entry, time < entry.refreshAt { return entry.value }
            let fetched = try fetch()
            let refreshAt: Double
            if let expiration = fetched.expiration {
                let fetchedAt = now()
                let life = expiration - fetchedAt
                guard life > 0 else {
                    throw ObjectStoreError(
                        .unauthorized,
                        "\(source) handed out credentials that expired \(HTTPClient.format((-life).rounded())) s ago (expiration \(WallClock.describe(expiration))); check the clock of this machine and of the credential source"
                    )
                }
                refreshAt = expiration - CredentialCache.margin(life: life)
            } else {
                refreshAt = .infinity
            }
            entry = (fetched.value, refreshAt)
            return fetched.value
        }
    }

    /// Forgets the cached value (the server refused it); the next `get()` fetches.
    package func invalidate() {
        entry.withLock { $0 = nil }
    }

    /// How long before expiry to refresh a credential that lives `life` seconds.
    package static func margin(life: Double) -> Double {
        life >= 2 * refreshMargin ? refreshMargin : life / 2
    }
}

extension WallClock {
    /// `2026-12-06T21:00:00Z` for seconds since 1970 (whole seconds, UTC).
    package static func describe(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        let days = total >= 0 ? total / 86400 : (total - 86399) / 86400
        let rest = total - days * 86400
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}
