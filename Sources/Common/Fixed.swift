#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Double {
    /// The value with `digits` decimals, as `printf("%.*f")` writes it (what
    /// `x.fixed(2)` gave, without Foundation).
    ///
    /// Every response's `Server-Timing` header has three of these, so the common case is
    /// written from integers: `digits` ≤ 9 and a scaled value under 2^53 that is not within
    /// rounding error of a half (where the product's rounding could differ from printf's exact
    /// one). Anything else (ties, NaN, infinities, huge values) goes to `vsnprintf`
    /// (``printfFixed(_:)``, which `FixedTests` compares this with).
    package func fixed(_ digits: Int) -> String { integerFixed(digits) ?? printfFixed(digits) }

    /// ``fixed(_:)`` written from integers, or nil where only `vsnprintf` is sure to agree with
    /// `printf` (see ``fixed(_:)``).
    package func integerFixed(_ digits: Int) -> String? {
        guard digits >= 0, digits <= 9, isFinite else { return nil }
        var scale = 1.0
        var power: UInt64 = 1
        for _ in 0..<digits {
            scale *= 10
            power *= 10
        }
        let scaled = magnitude * scale  // both exact up to 10^9; the product rounds once
        guard scaled < 9.0e15 else { return nil }
        let down = scaled.rounded(.down)
        let fraction = scaled - down  // exact: the two are within a factor of 2 or 0
        // The product's error is at most half an ulp of it: keep clear of the tie by 4 ulps.
        let margin = 4 * scaled.ulp
        guard abs(fraction - 0.5) > margin else { return nil }
        let n = UInt64(down) + (fraction > 0.5 ? 1 : 0)
        let whole = n / power
        var part = n % power
        let negative = sign == .minus
        var wholeDigits = 1
        var w = whole
        while w >= 10 {
            w /= 10
            wholeDigits += 1
        }
        let count = (negative ? 1 : 0) + wholeDigits + (digits > 0 ? 1 + digits : 0)
        return String(unsafeUninitializedCapacity: count) { buffer in
            var i = count
            for _ in 0..<digits {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(part % 10)
                part /= 10
            }
            if digits > 0 {
                i -= 1
                buffer[i] = UInt8(ascii: ".")
            }
            var w = whole
            repeat {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(w % 10)
                w /= 10
            } while w > 0
            if negative { buffer[0] = UInt8(ascii: "-") }
            return count
        }
    }

    /// ``fixed(_:)`` through `vsnprintf`.
    package func printfFixed(_ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let needed = withVaList([Int32(digits), self]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        if needed >= Int32(buffer.count) {
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
            _ = withVaList([Int32(digits), self]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Double {
    /// The value rounded to `digits` decimals, as a number (for JSON reports).
    package func rounded(toPlaces digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}

extension Float {
    /// `Double(self).fixed(digits)`.
    package func fixed(_ digits: Int) -> String { Double(self).fixed(digits) }
}
