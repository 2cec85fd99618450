import Foundation
import Testing

@testable import Retraining

@Suite("Training data: paths and URIs")
struct TrainingDataTests {
    @Test("a path, a file:// URI and a directory-object URI read the same rows")
    func locations() throws {
        let a = try TrainingData.load(googPath(), order: .newestFirst)
        let b = try TrainingData.load("file://" + googPath(), order: .newestFirst)
        #expect(a.rows.count == 732 && a == b)
        #expect(a.rows.first?[4] == 558.462551)
    }

    @Test("headerless data needs an order; dated data does not")
    func order() throws {
        #expect(throws: RetrainingError.self) { try TrainingData.load(googPath(), order: nil) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mscr-td-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("yahoo.csv")
        try Data(
            "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,2,3,1,2.5,2.5,10\n2020-01-01,1,2,0.5,1.5,1.5,9\n"
                .utf8
        )
        .write(to: file)
        let s = try TrainingData.load(file.path, order: nil)
        #expect(s.dates == ["2020-01-01", "2020-01-02"])
        #expect(throws: RetrainingError.self) {
            try TrainingData.load(dir.appendingPathComponent("missing.csv").path, order: nil)
        }
        #expect(throws: RetrainingError.self) { try TrainingData.load("s3://", order: nil) }
    }
}
