import CCrypto
import Common
import FoundationEssentials

/// A Google service-account key file (`GOOGLE_APPLICATION_CREDENTIALS`, `"type":
/// "service_account"`) and the OAuth 2.0 JWT-bearer grant that turns it into access tokens:
/// an RS256-signed JWT (`iss` = `client_email`, `aud` = `token_uri`, one hour) posted to
/// `token_uri` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
package struct ServiceAccountKey: Sendable, Equatable {
    package var clientEmail: String
    package var privateKeyPEM: String
    package var tokenURI: String
    /// Where the key was read from, for messages.
    package var path: String

    /// The scope asked for: read and write objects (`mscr publish` writes).
    package static let scope = "https://www.googleapis.com/auth/devstorage.read_write"
    package static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    /// Reads and checks the key file at `path`.
    package init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ObjectStoreError(.configuration, "GOOGLE_APPLICATION_CREDENTIALS '\(path)' cannot be read")
        }
        try self.init(json: Array(data), path: path)
    }

    package init(json: [UInt8], path: String) throws {
        func bad(_ problem: String) -> ObjectStoreError {
            ObjectStoreError(.configuration, "GOOGLE_APPLICATION_CREDENTIALS '\(path)': \(problem)")
        }
        struct File: Decodable {
            var type: String?
            var client_email: String?
            var private_key: String?
            var token_uri: String?
        }
        guard let object = try? JSONDecoder().decode(File.self, from: Data(json)) else {
            throw bad("not a JSON object with string fields")
        }
        guard let type = object.type, type == "service_account" else {
            throw bad("type is '\(object.type ?? "missing")', only service_account keys are supported")
        }
        guard let email = object.client_email, !email.isEmpty else { throw bad("no client_email") }
        guard let pem = object.private_key, pem.contains("-----BEGIN") else {
            throw bad("no PEM private_key")
        }
        let uri = object.token_uri.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultTokenURI
        guard uri.hasPrefix("https://") || uri.hasPrefix("http://") else {
            throw bad("token_uri '\(uri)' is not an http(s) URL")
        }
        self.clientEmail = email
        self.privateKeyPEM = pem
        self.tokenURI = uri
        self.path = path
        _ = try signedJWT(now: 0)  // the key must sign: fail at the start, not at the first read
    }

    /// The compact JWT `header.claims.signature` for a token valid from `now` for an hour.
    package func signedJWT(now: Double) throws -> String {
        let issued = Int(now)
        struct Header: Encodable { var alg = "RS256", typ = "JWT" }
        struct Claims: Encodable { var iss, scope, aud: String, iat, exp: Int }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = Array(try encoder.encode(Header()))
        let claims = Array(
            try encoder.encode(
                Claims(iss: clientEmail, scope: Self.scope, aud: tokenURI, iat: issued, exp: issued + 3600)))
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(claims)
        let message = Array(signingInput.utf8)
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = 0
        let result = privateKeyPEM.withCString { pem in
            mscr_rs256_sign(pem, strlen(pem), message, message.count, &signature, signature.count, &length)
        }
        switch result {
        case 1: break
        case -1:
            throw ObjectStoreError(
                .configuration, "GOOGLE_APPLICATION_CREDENTIALS '\(path)': private_key is not an RSA key")
        case 0:
            throw ObjectStoreError(
                .configuration,
                "GOOGLE_APPLICATION_CREDENTIALS '\(path)': private_key is not a readable PEM private key")
        default:
            throw ObjectStoreError(
                .configuration, "GOOGLE_APPLICATION_CREDENTIALS '\(path)': signing with private_key failed")
        }
        return signingInput + "." + Base64URL.encode(signature.prefix(length))
    }

    /// Exchanges a fresh JWT at `token_uri`: the access token and its expiration (seconds since 1970).
    func fetchToken(client: HTTPClient, now: Double) throws -> (value: String, expiration: Double?) {
        let what = "the service-account token endpoint \(tokenURI) (key \(path), \(clientEmail))"
        let form = URIEncoding.query([
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", try signedJWT(now: now)),
        ])
        let request = HTTPRequest(
            method: "POST", url: tokenURI, display: what,
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(form.utf8))
        let response: HTTPResponse
        do {
            response = try client.send(request)
        } catch let error as ObjectStoreError {
            throw ObjectStoreError(
                .unauthorized, "no Google access token: \(what) did not answer: \(error.message)", underlying: error)
        }
        guard response.isSuccess else {
            throw ObjectStoreError(
                .unauthorized,
                "\(what) refused the signed JWT: \(response.error("POST", tokenURI).message); check that the key in GOOGLE_APPLICATION_CREDENTIALS is not revoked"
            )
        }
        return try GCSTokenProvider.parseToken(response.body, what: what, now: now)
    }
}

/// Base64url without padding (RFC 7515 §2), as JWTs use.
package enum Base64URL {
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [table[Int(n >> 18)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out += [table[Int(n >> 18)], table[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [table[Int(n >> 18)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
