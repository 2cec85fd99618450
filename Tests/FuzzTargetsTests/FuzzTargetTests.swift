import Foundation
import Functions
import FuzzTargets
import Inference
import Testing

/// The fuzz targets in the ordinary test run: every valid seed is accepted (so each target
/// really reaches its parser), a few hundred seeded mutations of each seed are accepted or
/// rejected with the typed error (never an `internal` error, another error type or a trap),
/// and every input in `Regressions/` stays fixed.
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
                    Issue.record(
                        "\(target) input \(input.prefix(64).map { String(format: "%02x", $0) }.joined()): \(why)")
                }
            }
        }
        #expect(rejected > 0, "no mutation was rejected: the target may not be parsing anything")
    }

    /// `Regressions/<target>-<what>.bin`: inputs that crashed a target or once reached a
    /// guard against a crash (overflowing shapes, deep nesting, huge dimensions, truncation).
    /// Each is malformed and must be rejected with the module's typed error; an input a target
    /// should accept says so with `-accepted` at the end of its name.
    static func regressionInputs() throws -> [String: [URL]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: regressions.path)
        var byTarget: [String: [URL]] = [:]
        for name in names.sorted() where name.hasSuffix(".bin") {
            let target = String(name.prefix { $0 != "-" })
            byTarget[target, default: []].append(regressions.appendingPathComponent(name))
        }
        return byTarget
    }

    @Test func everyRegressionInputNamesATarget() throws {
        let inputs = try Self.regressionInputs()
        #expect(!inputs.isEmpty, "Regressions/ has no inputs")
        for target in inputs.keys {
            #expect(FuzzTarget(rawValue: target) != nil, "\(target)-…bin names no fuzz target")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func regressionInputsStayFixed(_ target: FuzzTarget) throws {
        let files = try Self.regressionInputs()[target.rawValue] ?? []
        #expect(!files.isEmpty, "no regression input for \(target) in Regressions/")
        for file in files {
            let name = file.lastPathComponent
            let outcome = target.run(try [UInt8](Data(contentsOf: file)))
            switch outcome {
            case .accepted:
                #expect(name.hasSuffix("-accepted.bin"), "\(name) was accepted; it must be rejected")
            case .rejected:
                #expect(!name.hasSuffix("-accepted.bin"), "\(name) was rejected: \(outcome)")
            case .unexpected(let why):
                Issue.record("\(name): \(why)")
            }
        }
    }
}
