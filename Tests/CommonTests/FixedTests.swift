import Common
import Testing

/// `Double.fixed(_:)` against glibc's `printf("%.*f")` (``Double/printfFixed(_:)``, the
/// independent implementation): its integer path must write the same text wherever it answers,
/// and answer for the values `Server-Timing` carries.
@Suite struct FixedTests {
    @Test("the integer path writes what printf writes, for 300000 values of every magnitude, ties and specials")
    func matchesPrintf() {
        var random = SystemRandomNumberGeneratorSeeded(seed: 7)
        var values: [Double] = [
            0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 0.0005, 1.0005, 123.4565, 1e-7, 9.0e15, 8.9e15, 1e20,
            .nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
            0.1, 0.7, 999.9995, 4.35, 1.005, 2.675,
        ]
        for _ in 0..<150_000 {
            // Any magnitude from 1e-12 to 1e17, either sign.
            let exponent = Double.random(in: -12...17, using: &random)
            let value = (Bool.random(using: &random) ? 1.0 : -1.0) * Double.random(in: 1..<10, using: &random)
            values.append(value * pow10(exponent))
        }
        for _ in 0..<50_000 {
            // Exact binary ties at 0 to 3 decimals (n + k/16), and their neighbours.
            let tie =
                Double(Int.random(in: -100_000...100_000, using: &random)) + Double(
                    Int.random(in: 0..<16, using: &random)) / 16
            values.append(contentsOf: [tie, tie.nextUp, tie.nextDown])
        }
        var answered = 0
        var mismatches: [String] = []
        for (i, value) in values.enumerated() {
            let digits = i < 27 ? i % 10 : Int.random(in: 0...11, using: &random)
            let expected = value.printfFixed(digits)
            if let fast = value.integerFixed(digits) {
                answered += 1
                if fast != expected, mismatches.count < 10 {
                    mismatches.append("\(value) .\(digits): \(fast) vs \(expected)")
                }
            }
            if value.fixed(digits) != expected, mismatches.count < 10 {
                mismatches.append("fixed \(value) .\(digits): \(value.fixed(digits)) vs \(expected)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(answered > values.count / 2, "the integer path answered \(answered) of \(values.count)")
    }

    @Test("Server-Timing's values (milliseconds, three decimals) take the integer path")
    func serverTimingValues() {
        var random = SystemRandomNumberGeneratorSeeded(seed: 11)
        var answered = 0
        for _ in 0..<100_000 {
            let ms = Double.random(in: 0..<100_000, using: &random)
            if let text = ms.integerFixed(3) {
                answered += 1
                #expect(text == ms.printfFixed(3))
            }
        }
        #expect(answered >= 99_900, "\(answered) of 100000 answered without printf")
    }

    func pow10(_ exponent: Double) -> Double {
        var result = 1.0
        let whole = Int(exponent.rounded(.down))
        for _ in 0..<abs(whole) { result = whole < 0 ? result / 10 : result * 10 }
        // The fractional part of the exponent as a factor in [1, 10).
        let fraction = exponent - Double(whole)
        return result * (1 + 9 * fraction)
    }
}
