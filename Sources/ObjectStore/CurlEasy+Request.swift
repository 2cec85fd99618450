import CCurl

/// The parts of sending an `HTTPRequest` that the store client (`HTTPClient`) and the timed
/// client (`TimedHTTP`) share.
extension CurlEasy {
    /// The request's headers as a libcurl list (the caller frees it with `curl_slist_free_all`).
    /// A body gets an empty `Expect:`, so there is no `100-continue` round trip for bodies over
    /// 1 MiB; not for signed requests: libcurl 7.88 signs the emptied header but does not send it
    /// (SignatureDoesNotMatch), and S3 answers 100-continue promptly anyway.
    static func headerList(for request: HTTPRequest) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers {
            list = curl_slist_append(list, value.isEmpty ? name + ":" : name + ": " + value)
        }
        if request.body != nil && request.awsSigV4 == nil { list = curl_slist_append(list, "Expect:") }
        return list
    }

    /// Performs the request's method with its body; every other option is set already.
    func perform(_ request: HTTPRequest) throws -> CURLcode {
        switch request.method {
        case "GET":
            try set(CURLOPT_HTTPGET, true)
            return perform()
        case "HEAD":
            try set(CURLOPT_NOBODY, true)
            return perform()
        default:
            try set(CURLOPT_CUSTOMREQUEST, request.method)
            // A valid pointer even for an empty body: with POSTFIELDS unset libcurl reads stdin.
            let body = request.body.flatMap { $0.isEmpty ? nil : $0 } ?? [0]
            let size = request.body?.count ?? 0
            return try body.withUnsafeBytes { raw in
                try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(size))
                try set(CURLOPT_POSTFIELDS, constPointer: raw.baseAddress)
                return perform()
            }
        }
    }
}
