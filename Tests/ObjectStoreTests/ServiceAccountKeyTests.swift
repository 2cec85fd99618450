import Foundation
import ObjectStore
import Testing

/// Service-account keys: parsing, and JWTs whose RS256 signature the `openssl` command verifies.
@Suite struct ServiceAccountKeyTests {
    /// Runs `openssl` with `arguments` in `directory`; returns its exit status.
    @discardableResult
    func openssl(_ arguments: [String], in directory: URL) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fresh RSA key written as a service-account key file; returns the key file's path.
    func makeKey(
        in directory: URL, type: String = "service_account",
        algorithm: [String] = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    ) throws -> String {
        #expect(try openssl(["genpkey"] + algorithm + ["-out", "key.pem"], in: directory) == 0)
        #expect(try openssl(["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"], in: directory) == 0)
        let pem = try String(contentsOf: directory.appendingPathComponent("key.pem"), encoding: .utf8)
        let json: [String: Any] = [
            "type": type, "client_email": "mscr@project.iam.gserviceaccount.com", "private_key": pem,
            "private_key_id": "k1", "token_uri": "http://127.0.0.1:9/token",
        ]
        let path = directory.appendingPathComponent("key.json").path
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    func base64URLDecode(_ text: Substring) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }

    @Test func theJWTCarriesTheClaimsAndAnRS256SignatureOpenSSLVerifies() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try ServiceAccountKey(path: try makeKey(in: directory))
        #expect(key.clientEmail == "mscr@project.iam.gserviceaccount.com")
        #expect(key.tokenURI == "http://127.0.0.1:9/token")
        let jwt = try key.signedJWT(now: 1_796_590_800)
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        let headerBytes = try #require(base64URLDecode(parts[0]))
        let header = try JSONSerialization.jsonObject(with: headerBytes) as? [String: String]
        #expect(header == ["alg": "RS256", "typ": "JWT"])
        let claimBytes = try #require(base64URLDecode(parts[1]))
        let claims = try #require(try JSONSerialization.jsonObject(with: claimBytes) as? [String: Any])
        #expect(claims["iss"] as? String == "mscr@project.iam.gserviceaccount.com")
        #expect(claims["aud"] as? String == "http://127.0.0.1:9/token")
        #expect(claims["scope"] as? String == ServiceAccountKey.scope)
        #expect(claims["iat"] as? Int == 1_796_590_800)
        #expect(claims["exp"] as? Int == 1_796_590_800 + 3600)
        // Independent check: openssl verifies the signature over "header.claims" with the public key.
        try Data((parts[0] + "." + parts[1]).utf8).write(to: directory.appendingPathComponent("input"))
        let signature = try #require(base64URLDecode(parts[2]))
        try signature.write(to: directory.appendingPathComponent("sig"))
        let verify = ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "input"]
        #expect(try openssl(verify, in: directory) == 0)
        // And a tampered input fails it (the check is real).
        try Data((parts[0] + "." + parts[1] + "x").utf8).write(to: directory.appendingPathComponent("input"))
        #expect(try openssl(verify, in: directory) != 0)
    }

    @Test func base64URLHasNoPaddingAndTheURLAlphabet() {
        #expect(Base64URL.encode([]) == "")
        #expect(Base64URL.encode([0xFB]) == "-w")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encode(Array("any carnal pleasure.".utf8)) == "YW55IGNhcm5hbCBwbGVhc3VyZS4")
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            let reference = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == reference)
        }
    }

    @Test func badKeyFilesAreConfigurationErrorsNamingTheVariable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, String)] = [
            (#"{"type":"authorized_user","client_email":"a","private_key":"-----BEGIN"}"#, "service_account"),
            (#"{"type":"service_account","private_key":"-----BEGIN"}"#, "client_email"),
            (
                #"{"type":"service_account","client_email":"a","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
                "PEM"
            ),
            ("not json", "JSON"),
        ]
        for (json, expected) in cases {
            let error = try #require(throws: ObjectStoreError.self) {
                try ServiceAccountKey(json: Array(json.utf8), path: "/k.json")
            }
            #expect(error.code == .configuration)
            #expect(
                error.message.contains("GOOGLE_APPLICATION_CREDENTIALS") && error.message.contains(expected),
                "\(error.message)")
        }
        let ec = try makeKey(in: directory, algorithm: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        let error = try #require(throws: ObjectStoreError.self) { try ServiceAccountKey(path: ec) }
        #expect(error.message.contains("not an RSA key"))
        #expect(throws: ObjectStoreError.self) {
            try ObjectStores.open("gs://b/p", environment: ["GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"])
        }
    }

    @Test func tokenAnswersParseWithTheirLifetime() throws {
        let answer = try GCSTokenProvider.parseToken(
            Array(#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#.utf8), what: "t", now: 100)
        #expect(answer.value == "ya29.x" && answer.expiration == 3699)
        #expect(throws: ObjectStoreError.self) {
            try GCSTokenProvider.parseToken(Array(#"{"error":"invalid_grant"}"#.utf8), what: "t", now: 0)
        }
    }
}
