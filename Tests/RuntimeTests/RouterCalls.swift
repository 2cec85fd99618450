import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Runtime

/// One request of a recorded sequence: a name for messages, where it goes and what it carries.
struct RouterCall: Sendable {
    var name: String
    var uri: String
    var method: HTTPRequest.Method = .post
    var contentType: String?
    var body: [UInt8]
    var headers: HTTPFields = [:]
}

/// What a request got back.
struct RouterAnswer: Equatable {
    var status: Int
    var contentType: String?
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

extension MSCRServer {
    /// Sends `calls` in order to this server's router (no socket) and returns the answers.
    func answers(_ calls: [RouterCall]) async throws -> [RouterAnswer] {
        try await makeApplication(router: makeRouter()).test(.router) { client in
            var answers: [RouterAnswer] = []
            for call in calls {
                var headers = call.headers
                if let type = call.contentType { headers[.contentType] = type }
                let response = try await client.execute(
                    uri: call.uri, method: call.method, headers: headers,
                    body: call.method == .get ? nil : ByteBuffer(bytes: call.body))
                answers.append(
                    RouterAnswer(
                        status: Int(response.status.code), contentType: response.headers[.contentType],
                        body: Array(response.body.readableBytesView)))
            }
            return answers
        }
    }
}
