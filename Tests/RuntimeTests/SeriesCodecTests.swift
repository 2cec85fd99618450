import Functions
import Runtime
import Testing

/// The request codec of price series: the media type picks JSON or CSV, a multipart form gives its
/// `file` part, `?order=` orders headerless rows, and a body of another kind is refused.
@Suite struct SeriesCodecTests {
    static let rows = "1,2,0.5,9,1.5\n2,3,1,9,2.5\n"

    static func series(_ body: String, _ contentType: String?, _ query: [String: String] = [:]) throws -> StockSeries {
        try TypedCodec.stockSeries(
            from: FunctionRequest(body: Array(body.utf8), contentType: contentType, query: query))
    }

    @Test("?order= reverses headerless rows; the default is oldest first; a bad order is invalid input")
    func order() throws {
        #expect(try Self.series(Self.rows, "text/csv").rows.first?[4] == 1.5)
        #expect(try Self.series(Self.rows, "text/csv", ["order": "newest-first"]).rows.first?[4] == 2.5)
        #expect(try Self.series(Self.rows, nil, ["order": "desc"]).rows.first?[4] == 2.5)
        do {
            _ = try Self.series(Self.rows, "text/csv", ["order": "sideways"])
            Issue.record("took order=sideways")
        } catch let e as FunctionError {
            #expect(e.code == .invalidInput)
            #expect(e.message.contains("sideways"))
        }
    }

    @Test("a JSON media type reads JSON rows; a multipart form gives its 'file' part, or is invalid input")
    func typesAndForms() throws {
        let json = #"{"rows": [[1, 2, 0.5, 100, 1.5], [2, 3, 1, 200, 2.5]]}"#
        #expect(try Self.series(json, "application/json; charset=utf-8").rows.count == 2)
        let form =
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n\(Self.rows)\r\n--XyZ--\r\n"
        #expect(try Self.series(form, "multipart/form-data; boundary=XyZ").rows.count == 2)
        do {
            _ = try Self.series(form, "multipart/form-data; boundary=Other")
            Issue.record("read a form with the wrong boundary")
        } catch let e as FunctionError {
            #expect(e.code == .invalidInput)
            #expect(e.message.contains("'file'"))
        }
    }

    @Test("image, audio and video bodies are unsupported media types")
    func refusedTypes() {
        for type in ["image/jpeg", "audio/wav", "video/mp4"] {
            do {
                _ = try Self.series("\u{FF}", type)
                Issue.record("took \(type)")
            } catch let e as FunctionError {
                #expect(e.code == .unsupportedMediaType)
                #expect(e.message.contains(type))
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
