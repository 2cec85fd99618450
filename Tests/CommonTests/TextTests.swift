import Common
import Foundation
import Testing

/// Path, number and percent-encoding text against the Foundation calls they replace.
@Suite struct TextTests {
    static let paths = [
        "/a/b/c", "/a/b/c/", "a/b", "/", "a//b", "/a/./b/../c", "../x/y", "./a", "/a/b.txt",
        "/a/.hidden", "a.tar.gz", "/x/y/../../..", "a/../..", "/a/b/c/../../d/./e/",
    ]

    @Test("Path matches NSString's path methods", arguments: paths)
    func pathAgainstNSString(path: String) {
        let ns = path as NSString
        #expect(Path.lastComponent(path) == ns.lastPathComponent)
        #expect(Path.deletingLastComponent(path) == ns.deletingLastPathComponent)
        #expect(Path.pathExtension(path) == ns.pathExtension)
        if !path.isEmpty { #expect(Path.appending(path, "z.json") == ns.appendingPathComponent("z.json")) }
    }

    /// A bare name and the empty path: NSString on Linux traps in deletingLastPathComponent for
    /// these, so they are spelled out.
    @Test("Path on a bare name and on the empty path")
    func bareNames() {
        #expect(Path.lastComponent("b") == "b" && Path.deletingLastComponent("b") == "")
        #expect(Path.lastComponent("") == "" && Path.deletingLastComponent("") == "")
        #expect(Path.appending("b", "c") == "b/c" && Path.appending("", "c") == "c")
        #expect(Path.pathExtension("b") == "" && Path.pathExtension("") == "")
    }

    @Test("Path.standardized resolves . and .. like NSString for absolute paths")
    func standardized() {
        for path in Self.paths where path.hasPrefix("/") {
            #expect(Path.standardized(path) == (path as NSString).standardizingPath, "\(path)")
        }
        #expect(Path.standardized("../x/./y/") == "../x/y")
        #expect(Path.standardized("a/..") == ".")
    }

    @Test("fixed(n) is String(format: \"%.nf\")")
    func fixedAgainstFormat() {
        var rng = SystemRandomNumberGeneratorSeeded(seed: 3)
        for _ in 0..<2000 {
            let v = (Double(rng.next(2_000_000_001)) - 1e9) / Double(1 << rng.next(30))
            for digits in [0, 1, 2, 3, 6] {
                #expect(v.fixed(digits) == String(format: "%.\(digits)f", v))
            }
        }
        #expect(Double.nan.fixed(2) == "nan")
        #expect(1e300.fixed(2).count > 300)
        #expect(Float(2.5).fixed(1) == "2.5")
    }

    @Test("trimmed drops surrounding whitespace and newlines only")
    func trimmed() {
        for text in ["  a b  ", "\n\tx\r\n", "", "   ", "none", " é "] {
            #expect(text.trimmed == text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
