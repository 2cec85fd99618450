import Common
import FoundationEssentials

/// The answers of AWS credential services: STS's XML (`AssumeRoleWithWebIdentityResult`) and
/// the JSON of the ECS container endpoint and EC2 instance metadata.
package enum AWSCredentialDocuments {
    /// Credentials and expiration from an `AssumeRoleWithWebIdentityResponse`.
    package static func parseSTS(_ xml: String, what: String) throws -> (
        credentials: S3ObjectStore.Credentials, expiration: Double?
    ) {
        func element(_ name: String) -> String? {
            XMLScanner.elements(name, in: xml).first.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard xml.contains("<Credentials>"), let key = element("AccessKeyId"), let secret = element("SecretAccessKey"),
            let token = element("SessionToken")
        else {
            throw ObjectStoreError(
                .malformed, "\(what): the answer has no Credentials (AccessKeyId, SecretAccessKey, SessionToken)")
        }
        let expiration = try element("Expiration").map { try timestamp($0, what: what) }
        return (S3ObjectStore.Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token), expiration)
    }

    /// Credentials and expiration from `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`
    /// (ECS, EKS Pod Identity, IMDS; IMDS adds `"Code": "Success"`).
    package static func parseJSON(_ body: [UInt8], what: String) throws -> (
        credentials: S3ObjectStore.Credentials, expiration: Double?
    ) {
        struct Document: Decodable {
            var Code: String?
            var Message: String?
            var AccessKeyId: String?
            var SecretAccessKey: String?
            var Token: String?
            var Expiration: String?
        }
        let object: Document
        do {
            object = try JSONDecoder().decode(Document.self, from: Data(body))
        } catch {
            throw ObjectStoreError(.malformed, "\(what): the answer is not a JSON object of strings: \(error)")
        }
        if let code = object.Code, code != "Success" {
            let message = object.Message ?? ""
            throw ObjectStoreError(.unauthorized, "\(what): \(code)" + (message.isEmpty ? "" : ": \(message)"))
        }
        func text(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        guard let key = text(object.AccessKeyId), let secret = text(object.SecretAccessKey) else {
            throw ObjectStoreError(.malformed, "\(what): the answer has no AccessKeyId and SecretAccessKey")
        }
        let expiration = try text(object.Expiration).map { try timestamp($0, what: what) }
        return (
            S3ObjectStore.Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: text(object.Token)),
            expiration
        )
    }

    private static func timestamp(_ text: String, what: String) throws -> Double {
        guard let seconds = WallClock.parseISO8601(text) else {
            throw ObjectStoreError(.malformed, "\(what): Expiration '\(text)' is not an ISO 8601 UTC time")
        }
        return seconds
    }
}
