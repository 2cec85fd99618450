import Foundation
import Testing

@testable import Inference

/// `CfgReader` (one pass over UTF-8 bytes) against `ReferenceCfgReader` (the earlier reader on
/// `Character`s): the same sections, options and line numbers, or the same error message, on
/// every cfg in ../shared/data, on random byte edits of them and on random lines built from the
/// characters where bytes and `Character`s could disagree.
@Suite("Darknet cfg reader: bytes against Characters")
struct CfgReaderDifferentialTests {
    /// A reader's answer, every string as its exact UTF-8 bytes.
    enum Outcome: Equatable {
        case sections([[[UInt8]]])
        case failure(InferenceError.Code, [UInt8])
        case foreign(String)
    }

    static func outcome(_ read: (String) throws -> [CfgSection], _ text: String) -> Outcome {
        do {
            return .sections(
                try read(text).map { section in
                    [Array(section.type.utf8), Array("\(section.line)".utf8)]
                        + section.options.flatMap {
                            [Array($0.key.utf8), Array($0.value.utf8), Array("\($0.line)".utf8)]
                        }
                })
        } catch let error as InferenceError {
            return .failure(error.code, Array(error.message.utf8))
        } catch {
            return .foreign("\(error)")
        }
    }

    static func expectSame(_ text: String, _ what: @autoclosure () -> String) {
        let expected = outcome(ReferenceCfgReader.sections(from:), text)
        let actual = outcome(CfgReader.sections(from:), text)
        #expect(actual == expected, "\(what()): \(text.debugDescription)")
    }

    /// Every `.cfg` under ../shared/data.
    static let cfgPaths: [String] = {
        let root = SharedData.root + "/data"
        let found = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return found.filter { $0.hasSuffix(".cfg") }.sorted().map { "data/" + $0 }
    }()

    /// Pieces that matter to one of the two readers: ASCII syntax, ASCII and Unicode whitespace,
    /// CR (CR LF is one `Character`), combining marks and ZWJ (they join the ASCII before them),
    /// a prepend mark (joins the ASCII after it), fullwidth look-alikes, and bytes that are not UTF-8.
    static let pieces: [[UInt8]] =
        ["\n", "\r", "\r\n", " ", "\t", "\u{0B}", "\u{0C}", "#", ";", "[", "]", "=", ",", "a", "K", "1", "net"]
        .map { Array($0.utf8) }
        + [
            "\u{301}", "\u{200D}", "\u{FE0F}", "\u{A0}", "\u{85}", "\u{2028}", "\u{3000}", "\u{600}", "\u{FF1D}", "É",
            "\u{1F1E6}",
        ]
        .map { Array($0.utf8) } + [[0xC3], [0x80], [0xFF], [0xE2, 0x80]]

    @Test func everySharedCfgIsFoundAndReadTheSame() throws {
        #expect(Self.cfgPaths.count >= 4, "\(Self.cfgPaths)")
        for path in Self.cfgPaths {
            let text = try SharedData.text(path)
            #expect((try CfgReader.sections(from: text)).count > 10, "\(path)")
            Self.expectSame(text, path)
            Self.expectSame(text.replacingOccurrences(of: "\n", with: "\r\n"), path + " with CR LF")
        }
    }

    @Test func randomEditsOfTheSharedCfgsGiveTheSameAnswer() throws {
        var random = DetTestRandom(seed: 18)
        for path in Self.cfgPaths {
            let original = try SharedData.bytes(path)
            for mutant in 0..<150 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<5, using: &random) {
                    case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(contentsOf: Self.pieces.randomElement(using: &random)!, at: at)
                    case 3: bytes.replaceSubrange(at...at, with: Self.pieces.randomElement(using: &random)!)
                    default: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &random)))
                    }
                    if bytes.isEmpty { bytes = [UInt8(ascii: "[")] }
                }
                Self.expectSame(String(decoding: bytes, as: UTF8.self), "\(path) mutant \(mutant)")
            }
        }
    }

    @Test func randomLinesOfTrickyPiecesGiveTheSameAnswer() {
        var random = DetTestRandom(seed: 8)
        for round in 0..<20_000 {
            var bytes = Array("[net]\n".utf8)
            for _ in 0..<Int.random(in: 0...14, using: &random) {
                bytes += Self.pieces.randomElement(using: &random)!
            }
            Self.expectSame(String(decoding: bytes, as: UTF8.self), "round \(round)")
        }
    }

    @Test func edgeCasesGiveTheSameAnswer() {
        let cases = [
            "", "\n", "[net]", "[net]\r\nwidth=8\r\n", "[net]\r\n\nwidth=8", "[]", "[x", "[x]]", "[NeT]\nW=1",
            "width=8", "[net]\n=8", "[net]\nwidth", "[net]\nwidth==8\nx=", "[net]\nwidth=8#c\n;c\n#c",
            "[net]\nwidth\u{301}=8", "[net]\nwidth=\u{301}8", "[net]\nwidth =\u{301}8", "[net]\nwidth\t=\u{301}8",
            "[net]\n w = 8 \u{301}", "[net]\u{301}\nw=8", "[n\u{301}et]\nw=8", "[\u{301}net]", "\u{600}[net]",
            "[net]\nw=8\u{600}#x", "[net]\nw=8#\u{301}", "[net]\nw=8\u{A0}", "[net]\nw=\u{A0}\u{301}8", "[ÉTÉ]\nk=v",
            "[net]\nw=8\u{85}h=9", "[net]\r\n\r\nw=8\r", "[net]\n\r\r\nw=8",
        ]
        for text in cases { Self.expectSame(text, "edge case") }
    }

    @Test func asciiWhitespaceIsExactlyTheWhitespaceCharacters() {
        for byte in UInt8(0)..<0x80 {
            #expect(CfgReader.isSpace(byte) == Character(Unicode.Scalar(byte)).isWhitespace, "byte \(byte)")
        }
    }
}
