import Synchronization

/// Random trace and span ids: xoshiro256** (https://prng.di.unimi.it) seeded from the system's
/// generator, behind a mutex. `SystemRandomNumberGenerator` costs a `getrandom` system call per
/// 64 bits, three per root span; ids need to be unique and uniformly random (the
/// `traceidratio` sampler decides on them), not unpredictable, which is what the OpenTelemetry
/// SDKs use too.
package final class SpanIDGenerator: Sendable {
    private let state: Mutex<(UInt64, UInt64, UInt64, UInt64)>

    package init() {
        var system = SystemRandomNumberGenerator()
        var s: (UInt64, UInt64, UInt64, UInt64) = (system.next(), system.next(), system.next(), system.next())
        if s.0 | s.1 | s.2 | s.3 == 0 { s.0 = 1 }
        state = Mutex(s)
    }

    /// A new trace id (neither half required non-zero, the pair never all zero) and span id
    /// (never zero).
    package func traceAndSpan() -> (high: UInt64, low: UInt64, span: UInt64) {
        state.withLock { s in
            var high = Self.next(&s)
            let low = Self.next(&s)
            if high | low == 0 { high = 1 }
            return (high, low, Self.nonZero(Self.next(&s)))
        }
    }

    /// A new span id (never zero).
    package func span() -> UInt64 { Self.nonZero(state.withLock { Self.next(&$0) }) }

    private static func nonZero(_ v: UInt64) -> UInt64 { v == 0 ? 1 : v }

    /// One step of xoshiro256**.
    package static func next(_ s: inout (UInt64, UInt64, UInt64, UInt64)) -> UInt64 {
        let result = (s.1 &* 5).rotatedLeft(7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3.rotatedLeft(45)
        return result
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
