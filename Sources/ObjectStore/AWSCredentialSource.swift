/// Where `s3://` stores get AWS credentials: the first configured provider of the usual AWS
/// chain, chosen once from the environment when the store is opened.
///
/// 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`): static keys;
/// 2. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`): EKS web
///    identity (IRSA), exchanged at STS (`AssumeRoleWithWebIdentity`) at
///    `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else `https://sts.REGION.amazonaws.com`;
/// 3. `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (against `http://169.254.170.2`) or
///    `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or
///    `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the `Authorization` header: the ECS task role
///    (and EKS Pod Identity);
/// 4. otherwise EC2 instance metadata (IMDSv2) at `AWS_EC2_METADATA_SERVICE_ENDPOINT`
///    (default `http://169.254.169.254`), unless `AWS_EC2_METADATA_DISABLED=true`; when it does
///    not answer, requests go unsigned (public buckets).
///
/// A later provider is never tried when an earlier one is configured. A half-configured
/// provider or a malformed value stops the start with the variable's name.
package enum AWSCredentialSource: Sendable, Equatable {
    /// No credentials: requests are not signed.
    case anonymous
    case environment(S3ObjectStore.Credentials)
    case webIdentity(tokenFile: String, roleARN: String, sessionName: String, stsEndpoint: String, region: String)
    case container(url: String, authorization: ContainerAuthorization?)
    case instanceMetadata(endpoint: String)

    /// The `Authorization` header of container-credential requests.
    package enum ContainerAuthorization: Sendable, Equatable {
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`: read anew at every fetch (it rotates).
        case file(String)
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
        case token(String)
    }

    /// The ECS agent's credential endpoint, the base of `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
    package static let ecsHost = "http://169.254.170.2"
    package static let imdsEndpoint = "http://169.254.169.254"

    /// The source the environment configures (see the type); `region` is the store's region.
    package init(environment: [String: String], region: String) throws {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func bad(_ message: String) -> ObjectStoreError { ObjectStoreError(.configuration, message) }

        let key = env("AWS_ACCESS_KEY_ID")
        let secret = env("AWS_SECRET_ACCESS_KEY")
        if let key, let secret {
            self = .environment(
                .init(accessKeyID: key, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN")))
            return
        }
        if key != nil || secret != nil {
            let missing = key == nil ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
            let given = key == nil ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"
            throw bad("\(given) is set but \(missing) is not: set both, or neither to use a role")
        }

        let tokenFile = env("AWS_WEB_IDENTITY_TOKEN_FILE")
        let roleARN = env("AWS_ROLE_ARN")
        if let tokenFile, let roleARN {
            guard roleARN.hasPrefix("arn:") else {
                throw bad("AWS_ROLE_ARN '\(roleARN)' is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)")
            }
            let sts =
                try Self.endpoint(
                    env("AWS_ENDPOINT_URL_STS").map { ("AWS_ENDPOINT_URL_STS", $0) }
                        ?? env("AWS_ENDPOINT_URL").map { ("AWS_ENDPOINT_URL", $0) })
                ?? "https://sts.\(region).amazonaws.com"
            let session = env("AWS_ROLE_SESSION_NAME") ?? "mscr-\(Int(WallClock.seconds()))"
            guard session.count >= 2, session.count <= 64,
                session.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "=,.@_-".contains($0)) })
            else {
                throw bad("AWS_ROLE_SESSION_NAME '\(session)' must be 2 to 64 characters of letters, digits and =,.@_-")
            }
            self = .webIdentity(
                tokenFile: tokenFile, roleARN: roleARN, sessionName: session, stsEndpoint: sts, region: region)
            return
        }
        if tokenFile != nil || roleARN != nil {
            let missing = tokenFile == nil ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN"
            let given = tokenFile == nil ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE"
            throw bad("\(given) is set but \(missing) is not: web identity needs both")
        }

        let authorization: ContainerAuthorization? =
            env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map { .file($0) }
            ?? env("AWS_CONTAINER_AUTHORIZATION_TOKEN").map { .token($0) }
        if let relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            guard relative.hasPrefix("/") else {
                throw bad("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI '\(relative)' must start with '/'")
            }
            self = .container(url: Self.ecsHost + relative, authorization: authorization)
            return
        }
        if let full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            guard Self.allowedContainerURI(full) else {
                throw bad(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' must be https://, or http:// to a loopback address, 169.254.170.2 or 169.254.170.23 (as the AWS SDKs require)"
                )
            }
            self = .container(url: full, authorization: authorization)
            return
        }

        if let disabled = env("AWS_EC2_METADATA_DISABLED") {
            switch disabled.lowercased() {
            case "true":
                self = .anonymous
                return
            case "false": break
            default: throw bad("AWS_EC2_METADATA_DISABLED must be true or false, not '\(disabled)'")
            }
        }
        let imds = try Self.endpoint(
            env("AWS_EC2_METADATA_SERVICE_ENDPOINT").map { ("AWS_EC2_METADATA_SERVICE_ENDPOINT", $0) })
        self = .instanceMetadata(endpoint: imds ?? Self.imdsEndpoint)
    }

    /// Which provider this is and the variables that chose it, for error messages.
    package var summary: String {
        switch self {
        case .anonymous: "no AWS credentials (unsigned requests)"
        case .environment: "static keys (AWS_ACCESS_KEY_ID)"
        case .webIdentity(_, let role, _, let sts, _):
            "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role \(role), STS \(sts))"
        case .container(let url, _): "the container credentials endpoint \(url) (AWS_CONTAINER_CREDENTIALS_*)"
        case .instanceMetadata(let endpoint): "EC2 instance metadata (IMDSv2) at \(endpoint)"
        }
    }

    var isInstanceMetadata: Bool {
        if case .instanceMetadata = self { return true }
        return false
    }

    /// What to set when no provider gave credentials.
    package static let chainHint =
        " (no credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, or run with an EC2 instance role)"

    /// An endpoint URL without trailing slashes, checked to be http(s).
    private static func endpoint(_ named: (name: String, value: String)?) throws -> String? {
        guard var value = named?.value, let name = named?.name else { return nil }
        guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
            throw ObjectStoreError(.configuration, "\(name) '\(value)' must start with http:// or https://")
        }
        while value.hasSuffix("/") { value.removeLast() }
        return value
    }

    /// https anywhere; http only to loopback or the ECS / EKS Pod Identity agents.
    static func allowedContainerURI(_ uri: String) -> Bool {
        if uri.hasPrefix("https://") { return uri.count > 8 }
        guard uri.hasPrefix("http://") else { return false }
        var host = uri.dropFirst(7).prefix { $0 != "/" && $0 != "?" }
        if host.hasPrefix("[") {
            return host.hasPrefix("[::1]")
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        return host == "localhost" || host.hasPrefix("127.") || host == "169.254.170.2" || host == "169.254.170.23"
    }
}
