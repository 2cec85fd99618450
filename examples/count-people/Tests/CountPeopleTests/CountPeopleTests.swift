import CountPeople
import MSCRFunctions
import MSCRTesting
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// CountPeople through the real runtime (host, routes, codecs) with the real yolo-fastest-1.1,
/// checked against what Darknet itself reports for the same photos (`shared/golden`).
@Suite("CountPeople")
struct CountPeopleTests {
    /// `<repo>/../shared`: the shared data folder beside the repository.
    static let shared: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast()  // the file
        parts = parts.dropLast(4)  // CountPeopleTests, Tests, count-people, examples
        return parts.dropLast().joined(separator: "/") + "/shared"  // beside the repository
    }()
    static let model = "yolo-fastest-1.1"

    static func bytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Missing(path: path) }
        return Array(data)
    }

    static func image(_ name: String) throws -> [UInt8] { try bytes(shared + "/data/images/" + name) }

    /// A repository holding the model, published the way `mscr publish` does.
    static func repository() throws -> TestRepository {
        try TestRepository(publishing: shared + "/data/models/" + model, as: model)
    }

    /// Darknet's person scores for `image` (the reference, not our engine).
    static func goldenPersonScores(_ stem: String) throws -> [Float] {
        struct Golden: Decodable {
            struct Detection: Decodable {
                var `class`: String
                var prob: Float
            }
            var detections: [Detection]
        }
        let golden = try JSONDecoder().decode(
            Golden.self, from: Data(try bytes(shared + "/golden/\(model)/\(stem).json")))
        return golden.detections.filter { $0.class == "person" }.map(\.prob).sorted(by: >)
    }

    struct Missing: Error { var path: String }

    @Test("a street photo: the people Darknet finds above the threshold, cold then warm")
    func countsPeopleInStreet() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        let expected = try Self.goldenPersonScores("street").filter { $0 >= 0.5 }
        // No reference person within 0.01 of the threshold: the count is not a coin toss.
        #expect(try Self.goldenPersonScores("street").allSatisfy { abs($0 - 0.5) > 0.01 })
        #expect(expected.count >= 3)
        let photo = try Self.image("street.jpg")
        try await FunctionTester.run(
            CountPeople.self, model: Self.model, repository: repository.uri, params: ["threshold": 0.5]
        ) { client in
            let cold = try await client.invoke(image: photo)
            #expect(cold.status == 200, "\(cold.text)")
            #expect(cold.headers["content-type"] == "application/json")
            let output = try #require(cold.output)
            #expect(output.people == expected.count)
            #expect(output.enough)
            #expect(output.required == 1)
            #expect(output.threshold == 0.5)
            #expect(output.modelVersion == 1)
            #expect(output.scores.count == expected.count)
            for (score, reference) in zip(output.scores, expected) { #expect(abs(score - reference) <= 0.01) }
            #expect(cold.serverTiming?.contains("cold;dur=") == true, "\(cold.serverTiming ?? "no Server-Timing")")

            let warm = try await client.invoke(image: photo)
            #expect(warm.output == output)
            #expect(warm.serverTiming?.contains("infer;dur=") == true)
            #expect(warm.serverTiming?.contains("cold;") == false)
        }
    }

    @Test("V2 over a real socket: metadata, then infer in JSON and binary answers as POST /functions/count-people")
    func tensorProtocol() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        let expected = try Self.goldenPersonScores("street").filter { $0 >= 0.5 }
        let photo = try Self.image("street.jpg")
        try await FunctionTester.run(
            CountPeople.self, model: Self.model, repository: repository.uri, params: ["threshold": 0.5],
            transport: .live
        ) { client in
            let metadata = try await client.tensorMetadata()
            #expect(metadata.platform == "count-people")
            #expect(metadata.inputs == [TensorDescriptor("image", .bytes, [1])])
            #expect(metadata.outputs.map(\.name) == ["people", "enough", "scores"])

            let rest = try #require(
                try await client.invoke(image: photo, query: ["atLeast": "\(expected.count)"]).output)
            let image = try NamedTensor(name: "image", shape: [1], elements: .bytes([photo]))
            for binary in [false, true] {
                let v2 = try await client.infer(
                    [image], parameters: ["atLeast": .int(Int64(expected.count))], binary: binary)
                #expect(v2.status == 200, "\(v2.text)")
                #expect(try v2.output("people")?.integers() == [Int64(expected.count)])
                #expect(try v2.output("enough")?.booleans() == [true])
                let scores = try #require(try v2.output("scores")?.floats())
                #expect(scores == rest.scores)
                for (score, reference) in zip(scores, expected) { #expect(abs(score - reference) <= 0.01) }
            }
            let tooMany = try await client.infer([image], parameters: ["atLeast": .int(Int64(expected.count + 1))])
            #expect(try tooMany.output("enough")?.booleans() == [false])

            let notImage = try NamedTensor(name: "image", shape: [1], elements: .bytes([Array("hello".utf8)]))
            let refused = try await client.infer([notImage])
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.error == "the body is not a JPEG or PNG image")
            let badParameter = try await client.infer([image], parameters: ["atLeast": .double(1.5)])
            #expect(badParameter.status == 400)
            #expect(badParameter.error == "parameter 'atLeast' must be a whole number, got 1.5")
        }
    }

    @Test("atLeast decides enough")
    func atLeastChangesEnough() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        let people = try Self.goldenPersonScores("street").filter { $0 >= 0.5 }.count
        let photo = try Self.image("street.jpg")
        try await FunctionTester.run(
            CountPeople.self, model: Self.model, repository: repository.uri, params: ["threshold": 0.5]
        ) { client in
            let exactly = try #require(try await client.invoke(image: photo, query: ["atLeast": "\(people)"]).output)
            #expect(exactly.enough)
            #expect(exactly.required == people)
            let more = try #require(try await client.invoke(image: photo, query: ["atLeast": "\(people + 1)"]).output)
            #expect(!more.enough)
            #expect(more.people == people)
        }
    }

    @Test("the same answer from a JSON body (base64 image) and from a multipart file part")
    func otherEncodings() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        let photo = try Self.image("girl.png")
        let reference = try Self.goldenPersonScores("girl").filter { $0 >= 0.4 }.count
        try await FunctionTester.run(CountPeople.self, model: Self.model, repository: repository.uri) { client in
            struct Body: Encodable {
                var image: EncodedImage
                var atLeast: Int
            }
            let json = try await client.invoke(json: Body(image: EncodedImage(bytes: photo), atLeast: 2))
            #expect(json.status == 200, "\(json.text)")
            #expect(json.output?.people == reference)
            #expect(json.output?.enough == (reference >= 2))

            let boundary = "mscr-test-boundary"
            var form = Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"girl.png\"\r\n".utf8)
            form += Array("Content-Type: image/png\r\n\r\n".utf8) + photo + Array("\r\n--\(boundary)--\r\n".utf8)
            let multipart = try await client.invoke(
                body: form, contentType: "multipart/form-data; boundary=\(boundary)", query: ["atLeast": "1"])
            #expect(multipart.status == 200, "\(multipart.text)")
            #expect(multipart.output?.people == reference)
            #expect(multipart.output?.enough == true)
        }
    }

    @Test("a body that is not an image: 415 or 422 with the JSON error shape")
    func nonImageBodies() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        try await FunctionTester.run(CountPeople.self, model: Self.model, repository: repository.uri) { client in
            let text = try await client.invoke(body: Array("hello".utf8), contentType: "text/plain")
            #expect(text.status == 415)
            #expect(text.error?.code == "unsupported_media_type")
            #expect(text.error?.message.contains("text/plain") == true)

            let fake = try await client.invoke(image: Array("not a jpeg".utf8), contentType: "image/jpeg")
            #expect(fake.status == 422)
            #expect(fake.error?.code == "unprocessable")

            let bytes = try await client.invoke(
                body: [0, 1, 2, 3, 4, 5, 6, 7], contentType: "application/octet-stream")
            #expect(bytes.status == 415)
            #expect(bytes.output == nil)

            // A JPEG cut short after its header: well-formed type, corrupt content.
            let street = try Self.image("street.jpg")
            let truncated = Array(street.prefix(street.count / 2))
            let cut = try await client.invoke(image: truncated)
            #expect(cut.status == 422, "\(cut.text)")
        }
    }

    @Test("a bad query value is a 400 naming the field")
    func badQueryValue() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        let photo = try Self.image("street.jpg")
        try await FunctionTester.run(CountPeople.self, model: Self.model, repository: repository.uri) { client in
            let words = try await client.invoke(image: photo, query: ["atLeast": "many"])
            #expect(words.status == 400)
            #expect(words.error?.code == "invalid_input")
            #expect(words.error?.message.contains("'atLeast'") == true, "\(words.text)")
            #expect(words.error?.message.contains("many") == true)

            let negative = try await client.invoke(image: photo, query: ["atLeast": "-1"])
            #expect(negative.status == 400)
            #expect(negative.error?.message.contains("atLeast") == true)

            let noImage = try await client.invoke(body: [], contentType: nil, query: ["atLeast": "1"])
            #expect(noImage.status == 400)
            #expect(noImage.error?.message.contains("'image'") == true, "\(noImage.text)")
        }
    }

    @Test("a bad params value stops the start, naming the key")
    func badParameters() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        do {
            try await FunctionTester.run(
                CountPeople.self, model: Self.model, repository: repository.uri, params: ["threshold": 2]
            ) { _ in Issue.record("the server started with threshold 2") }
        } catch {
            #expect(
                "\(error)".contains("function.json: \"params.threshold\" must be a number in 0.01...0.99, got 2.0"),
                "\(error)")
        }
        do {
            try await FunctionTester.run(
                CountPeople.self, model: Self.model, repository: repository.uri, params: ["treshold": 0.5]
            ) { _ in Issue.record("the server started with a misspelt parameter") }
        } catch {
            #expect(
                "\(error)".contains("\"params.treshold\" is not a known parameter (allowed: nms, threshold)"),
                "\(error)")
        }
    }
}
