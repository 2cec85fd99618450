import ArgumentParser
import Common
import FoundationEssentials
import ObjectStore

/// `mscr invoke URL FUNCTION FILE`: one call of a function on a running service, the way a
/// client should make it, with libcurl's timings and the server's `Server-Timing`.
struct InvokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Call a function on a running service and print its JSON answer.",
        discussion: """
            Sends FILE to <URL>/functions/<FUNCTION>: detect gets the image bytes as image/jpeg or image/png \
            (by their magic bytes), stock gets text/csv, or application/json when the file starts with '{'. \
            Prints the answer on stdout; on stderr a timing line from libcurl (each time from the start of \
            the request: DNS, connect, TLS, first byte, total) and the server's Server-Timing. \
            A non-2xx answer is printed too and the exit status is 1; no answer at all exits with 2.
            """)

    @Argument(help: "The service, e.g. http://127.0.0.1:8080 or https://NAME-HASH.a.run.app.")
    var url: String
    @Argument(help: "The function, e.g. detect or stock.")
    var function: String
    @Argument(help: "The request body: an image, a CSV or JSON file ('-' reads stdin).")
    var file: String
    @Option(name: .customLong("query"), help: "A query item key=value (repeatable), e.g. order=newest-first.")
    var query: [String] = []
    @Option(help: "Send this Content-Type instead of the one picked from the file.")
    var contentType: String?
    @Option(help: "Write the answer to this file instead of stdout (for ?format=jpeg or svg).")
    var output: String?
    @Flag(help: "Print nothing on stderr.")
    var quiet = false
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let payload = try FunctionPayload.read(file, function: function, override: contentType)
        let target = try FunctionURL.make(base: url, function: function, query: query)
        var headers = try connection.parsedHeaders()
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", payload.contentType))
        }
        let client = try TimedHTTPClient(options: connection.clientOptions)
        let result = try client.send(
            HTTPRequest(method: "POST", url: target, display: target, headers: headers, body: payload.body))
        if let failure = result.failure {
            printError("error: POST \(target): \(failure.message) (\(failure.kind.rawValue))")
            throw ExitCode(2)
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(result.body)) else {
                throw ValidationError("cannot write \(output)")
            }
        } else {
            StandardStream.writeOutput(result.body)
            if result.body.last != 0x0A { StandardStream.writeOutput("\n") }
        }
        if !quiet {
            printError(
                Self.timingLine(
                    status: result.status, timing: result.timing, https: target.lowercased().hasPrefix("https:")))
            let server = ServerTimingHeader(result.header("server-timing"))
            printError(server.isEmpty ? "server: no Server-Timing" : "server: \(server.summary)")
        }
        guard result.isSuccess else {
            printError("error: HTTP \(result.status)\(Self.errorSummary(result.body).map { ": " + $0 } ?? "")")
            throw ExitCode(1)
        }
    }

    /// `HTTP 200 · dns 0.02 ms · connect 0.15 ms · tls 3.10 ms · first byte 25.3 ms · total 25.5 ms`
    static func timingLine(status: Int, timing: TransferTiming, https: Bool) -> String {
        var parts = ["HTTP \(status)", "dns \(Format.ms(timing.dnsMs))", "connect \(Format.ms(timing.connectMs))"]
        parts.append(https ? "tls \(Format.ms(timing.tlsMs))" : "tls –")
        parts.append("first byte \(Format.ms(timing.firstByteMs))")
        parts.append("total \(Format.ms(timing.totalMs))")
        return "curl: " + parts.joined(separator: " · ")
    }

    /// `code: message` from `{"error": {"code", "message"}}`.
    static func errorSummary(_ body: [UInt8]) -> String? {
        guard let error = (try? JSONValue.parse(body))?["error"] else { return nil }
        let code = error["code"]?.stringValue
        let message = error["message"]?.stringValue
        return [code, message].compactMap { $0 }.joined(separator: ": ")
    }
}
