import CCurl

/// libcurl's process-wide initialisation. Swift initialises globals exactly once, thread-safely
/// (`swift_once`), which is what `curl_global_init` needs: it must not run concurrently.
private let curlGlobalInitResult: CURLcode = mscr_curl_global_init()

/// Owns one libcurl easy handle: `init` creates it, `deinit` frees it.
///
/// A handle is used by one thread at a time (the `HTTPClient` pool hands it out exclusively),
/// hence `@unchecked Sendable`. Keeping handles alive between requests keeps their connections.
final class CurlEasy: @unchecked Sendable {
    /// The `CURL *`. Never leaves this module's transport code.
    let handle: UnsafeMutableRawPointer

    init() throws {
        guard curlGlobalInitResult == CURLE_OK else {
            throw ObjectStoreError(.transport, "curl_global_init failed: \(CurlEasy.describe(curlGlobalInitResult))")
        }
        guard let handle = curl_easy_init() else {
            throw ObjectStoreError(.transport, "curl_easy_init failed (out of memory?)")
        }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Forgets every option but keeps the connection cache, DNS cache and session IDs.
    func reset() {
        curl_easy_reset(handle)
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(mscr_curl_setopt_long(handle, option, value), option)
    }

    /// Sets an option libcurl may refuse without harm (a tuning hint); a refusal is ignored.
    func hint(_ option: CURLoption, _ value: Int) {
        _ = mscr_curl_setopt_long(handle, option, value)
    }

    func set(_ option: CURLoption, _ value: Bool) throws {
        try set(option, value ? 1 : 0)
    }

    /// libcurl copies string options (since 7.17), so `value` need not outlive the call.
    func set(_ option: CURLoption, _ value: String) throws {
        try check(mscr_curl_setopt_string(handle, option, value), option)
    }

    func set(_ option: CURLoption, offset value: Int64) throws {
        try check(mscr_curl_setopt_off(handle, option, curl_off_t(value)), option)
    }

    /// The caller keeps `value` alive until the transfer ends.
    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws {
        try check(mscr_curl_setopt_pointer(handle, option, value), option)
    }

    /// The caller keeps `value` alive until the transfer ends.
    func set(_ option: CURLoption, constPointer value: UnsafeRawPointer?) throws {
        try check(mscr_curl_setopt_const_pointer(handle, option, value), option)
    }

    /// The caller keeps `list` alive until the transfer ends.
    func set(_ option: CURLoption, list: UnsafeMutablePointer<curl_slist>?) throws {
        try check(mscr_curl_setopt_slist(handle, option, list), option)
    }

    func set(_ option: CURLoption, callback: mscr_curl_data_cb) throws {
        try check(mscr_curl_setopt_datacb(handle, option, callback), option)
    }

    func set(_ option: CURLoption, progress: mscr_curl_xferinfo_cb) throws {
        try check(mscr_curl_setopt_xferinfocb(handle, option, progress), option)
    }

    /// Runs the transfer; blocks the calling thread until it ends.
    func perform() -> CURLcode {
        curl_easy_perform(handle)
    }

    /// The last response's status code (0 when nothing was received).
    func responseCode() -> Int {
        var code = 0
        _ = mscr_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// The libcurl linked at run time, e.g. `libcurl/7.88.1 OpenSSL/3.0.17 …`.
    static let version: String = String(cString: curl_version())

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw ObjectStoreError(
                .transport,
                "curl_easy_setopt(\(option.rawValue)) failed: \(CurlEasy.describe(code)) (\(CurlEasy.version))")
        }
    }
}
