import Foundation
import FuzzTargets
import Functions
import Inference
import Testing

/// The fuzz targets in the ordinary test run: every valid seed is accepted (so each target
/// really reaches its parser), a few hundred seeded mutations of each seed are accepted or
/// rejected with the typed error (never an `internal` error, another error type or a trap),
/// and every crash the fuzzer ever found (`Regressions/<target>/`) stays fixed.
@Suite struct FuzzTargetTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Regressions")

    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let seeds = try FuzzSeeds.seeds(for: target)
        #expect(!seeds.isEmpty)
        for seed in seeds {
            #expect(target.run(seed) == .accepted, "seed of \(seed.count) bytes")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func mutationsAreAcceptedOrRejectedNeverUnexpected(_ target: FuzzTarget) throws {
        var rng = SeededGenerator(seed: 0x5EED_0000 + UInt64(target.rawValue.count))
        var rejected = 0
        for seed in try FuzzSeeds.seeds(for: target) {
            for _ in 0..<150 {
                let input = FuzzSeeds.mutate(seed, using: &rng)
                switch target.run(input) {
                case .accepted: break
                case .rejected: rejected += 1
                case .unexpected(let why):
                    Issue.record("\(target) input \(input.prefix(64).map { String(format: "%02x", $0) }.joined()): \(why)")
                }
            }
        }
        #expect(rejected > 0, "no mutation was rejected: the target may not be parsing anything")
    }

    @Test(arguments: FuzzTarget.allCases)
    func foundCrashesStayFixed(_ target: FuzzTarget) throws {
        let folder = Self.regressions.appendingPathComponent(target.rawValue)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in files where !name.hasPrefix(".") {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            let outcome = target.run(bytes)
            if case .unexpected(let why) = outcome { Issue.record("\(target)/\(name): \(why)") }
        }
    }
}
