#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time in seconds since 1970 (UTC), and the ISO 8601 timestamps cloud credential
/// services put in `Expiration` fields.
package enum WallClock {
    /// Now, from `CLOCK_REALTIME`.
    @Sendable package static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Seconds since 1970 of an RFC 3339 / ISO 8601 UTC timestamp as STS, ECS and IMDS write
    /// them: `2026-12-06T21:00:00Z`, with optional fractional seconds (`…:00.123Z`) and an
    /// optional numeric offset instead of `Z` (`+00:00`). Nil for anything else.
    package static func parseISO8601(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                guard (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45,
            let day = digits(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = digits(11, 2), b[13] == 58,
            let minute = digits(14, 2), b[16] == 58, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var at = 19
        var fraction = 0.0
        if at < b.count, b[at] == 46 {
            at += 1
            var scale = 0.1
            let start = at
            while at < b.count, (48...57).contains(b[at]) {
                fraction += Double(b[at] - 48) * scale
                scale /= 10
                at += 1
            }
            guard at > start else { return nil }
        }
        var offset = 0
        if at < b.count, b[at] == 90 || b[at] == 122 {
            at += 1
        } else if at + 6 == b.count, b[at] == 43 || b[at] == 45, let oh = digits(at + 1, 2), b[at + 3] == 58,
            let om = digits(at + 4, 2)
        {
            offset = (b[at] == 43 ? 1 : -1) * (oh * 3600 + om * 60)
            at += 6
        } else {
            return nil
        }
        guard at == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
