import Runtime

extension FuzzTarget {
    /// The request the `csv` target sends the runtime's series codec: `body` as JSON (flag bit 0)
    /// or CSV, with `?order=newest-first` (bit 1), and (bit 2) as the `file` part of a multipart
    /// form, so the fuzzer also reaches the form reader.
    static func seriesRequest(_ body: [UInt8], flags: UInt8) -> FunctionRequest {
        let media = flags & 1 == 1 ? "application/json" : "text/csv"
        let query = flags & 2 == 2 ? ["order": "newest-first"] : [:]
        guard flags & 4 == 4 else { return FunctionRequest(body: body, contentType: media, query: query) }
        let boundary = "mscr-fuzz"
        let head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\nContent-Type: \(media)\r\n\r\n"
        return FunctionRequest(
            body: Array(head.utf8) + body + Array("\r\n--\(boundary)--\r\n".utf8),
            contentType: "multipart/form-data; boundary=\(boundary)", query: query)
    }
}
