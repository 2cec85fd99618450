import Runtime
import Testing

@Suite struct SpanIDGeneratorTests {
    @Test("xoshiro256** from state (1, 2, 3, 4) gives the reference implementation's sequence")
    func referenceSequence() {
        // prng.di.unimi.it's xoshiro256starstar.c from this state (also computed by a Python
        // transcription of it when this test was written).
        var s: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
        let expected: [UInt64] = [
            11520, 0, 1_509_978_240, 1_215_971_899_390_074_240, 1_216_172_134_540_287_360, 607_988_272_756_665_600,
        ]
        #expect(expected.map { _ in SpanIDGenerator.next(&s) } == expected)
    }

    @Test("ids are non-zero, unique over 200k draws, and every bit is set about half the time")
    func uniform() {
        let ids = SpanIDGenerator()
        var seen = Set<UInt64>()
        var ones = [Int](repeating: 0, count: 64)
        let n = 100_000
        for _ in 0..<n {
            let (high, low, span) = ids.traceAndSpan()
            let child = ids.span()
            #expect(high | low != 0 && span != 0 && child != 0)
            seen.insert(span)
            seen.insert(child)
            for bit in 0..<64 where low >> UInt64(bit) & 1 == 1 { ones[bit] += 1 }
        }
        #expect(seen.count == 2 * n)
        // Binomial(100k, 1/2): sd 158; 1 % is over 6 sd.
        #expect(ones.allSatisfy { abs($0 - n / 2) < n / 100 }, "\(ones)")
    }
}
