import ObjectStore
import Testing

/// The AWS credential chain's choice from the environment, and the documents its providers answer.
@Suite struct AWSCredentialSourceTests {
    func source(_ environment: [String: String], region: String = "eu-west-1") throws -> AWSCredentialSource {
        try AWSCredentialSource(environment: environment, region: region)
    }

    @Test func theFirstConfiguredProviderWinsInChainOrder() throws {
        let all = [
            "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
            "AWS_ROLE_SESSION_NAME": "sess", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x",
        ]
        #expect(try source(all) == .environment(.init(accessKeyID: "AKIA1", secretAccessKey: "s", sessionToken: "t")))
        var rest = all
        rest["AWS_ACCESS_KEY_ID"] = nil
        rest["AWS_SECRET_ACCESS_KEY"] = nil
        #expect(
            try source(rest)
                == .webIdentity(
                    tokenFile: "/var/run/token", roleARN: "arn:aws:iam::1:role/r", sessionName: "sess",
                    stsEndpoint: "https://sts.eu-west-1.amazonaws.com", region: "eu-west-1"))
        rest["AWS_WEB_IDENTITY_TOKEN_FILE"] = nil
        rest["AWS_ROLE_ARN"] = nil
        #expect(try source(rest) == .container(url: "http://169.254.170.2/v2/credentials/x", authorization: nil))
        #expect(try source([:]) == .instanceMetadata(endpoint: "http://169.254.169.254"))
        #expect(try source(["AWS_EC2_METADATA_DISABLED": "TRUE"]) == .anonymous)
        #expect(
            try source(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"])
                == .instanceMetadata(endpoint: "http://127.0.0.1:9"))
    }

    @Test func theSTSEndpointComesFromTheSTSVariableThenTheGeneralOne() throws {
        let base = [
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_ROLE_SESSION_NAME": "s1",
        ]
        func sts(_ extra: [String: String]) throws -> String? {
            if case .webIdentity(_, _, _, let endpoint, _) = try source(base.merging(extra) { $1 }) { return endpoint }
            return nil
        }
        #expect(try sts(["AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_STS": "http://b:2/"]) == "http://b:2")
        #expect(try sts(["AWS_ENDPOINT_URL": "http://a:1"]) == "http://a:1")
        #expect(try sts([:]) == "https://sts.eu-west-1.amazonaws.com")
    }

    @Test func theContainerTokenFileWinsOverTheTokenAndFullURIsAreChecked() throws {
        let file = try source([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:8080/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "inline", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/run/token",
        ])
        #expect(file == .container(url: "http://127.0.0.1:8080/creds", authorization: .file("/run/token")))
        let inline = try source([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example/x",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "inline",
        ])
        #expect(inline == .container(url: "https://creds.example/x", authorization: .token("inline")))
        #expect(
            try source(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"]) != .anonymous)
        #expect(try source(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[::1]:80/c"]) != .anonymous)
    }

    @Test(arguments: [
        (["AWS_ACCESS_KEY_ID": "AKIA"], "AWS_SECRET_ACCESS_KEY"),
        (["AWS_SECRET_ACCESS_KEY": "s"], "AWS_ACCESS_KEY_ID"),
        (["AWS_ROLE_ARN": "arn:aws:iam::1:role/r"], "AWS_WEB_IDENTITY_TOKEN_FILE"),
        (["AWS_WEB_IDENTITY_TOKEN_FILE": "/t"], "AWS_ROLE_ARN"),
        (["AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "role"], "AWS_ROLE_ARN"),
        (
            [
                "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                "AWS_ROLE_SESSION_NAME": "a b",
            ], "AWS_ROLE_SESSION_NAME"
        ),
        (
            [
                "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                "AWS_ENDPOINT_URL_STS": "sts.local",
            ], "AWS_ENDPOINT_URL_STS"
        ),
        (["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/x"], "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example/creds"], "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "ftp://127.0.0.1/"], "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        (["AWS_EC2_METADATA_DISABLED": "yes"], "AWS_EC2_METADATA_DISABLED"),
        (["AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254"], "AWS_EC2_METADATA_SERVICE_ENDPOINT"),
    ])
    func aBadOrHalfSetVariableStopsTheStartWithItsName(environment: [String: String], name: String) throws {
        let error = try #require(throws: ObjectStoreError.self) { try source(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains(name), "\(error.message)")
        // The store factory fails the same way: the server does not start with it.
        #expect(throws: ObjectStoreError.self) { try ObjectStores.open("s3://b/p", environment: environment) }
    }

    @Test func stsAnswersParse() throws {
        let xml = """
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <AssumeRoleWithWebIdentityResult>
                <Credentials>
                  <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
                  <SecretAccessKey>se/cr+et</SecretAccessKey>
                  <SessionToken>to&amp;ken</SessionToken>
                  <Expiration>2026-12-06T21:00:00.000Z</Expiration>
                </Credentials>
              </AssumeRoleWithWebIdentityResult>
            </AssumeRoleWithWebIdentityResponse>
            """
        let parsed = try AWSCredentialDocuments.parseSTS(xml, what: "sts")
        #expect(
            parsed.credentials == .init(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "se/cr+et", sessionToken: "to&ken")
        )
        #expect(parsed.expiration == 1_796_590_800)
        let error = try #require(throws: ObjectStoreError.self) {
            try AWSCredentialDocuments.parseSTS(
                "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", what: "sts X")
        }
        #expect(error.code == .malformed && error.message.hasPrefix("sts X"))
    }

    @Test func containerAndInstanceMetadataAnswersParse() throws {
        let ecs =
            #"{"AccessKeyId":"ASIA2","SecretAccessKey":"s2","Token":"t2","Expiration":"2026-12-06T21:00:00Z","RoleArn":"arn"}"#
        let parsed = try AWSCredentialDocuments.parseJSON(Array(ecs.utf8), what: "ecs")
        #expect(parsed.credentials == .init(accessKeyID: "ASIA2", secretAccessKey: "s2", sessionToken: "t2"))
        #expect(parsed.expiration == 1_796_590_800)
        let imdsFailure =
            #"{"Code":"AssumeRoleUnauthorizedAccess","Message":"denied","AccessKeyId":"x","SecretAccessKey":"y"}"#
        let refused = try #require(throws: ObjectStoreError.self) {
            try AWSCredentialDocuments.parseJSON(Array(imdsFailure.utf8), what: "imds")
        }
        #expect(refused.code == .unauthorized && refused.message.contains("AssumeRoleUnauthorizedAccess"))
        for bad in [
            #"{"AccessKeyId":"a"}"#, "not json", #"{"AccessKeyId":"a","SecretAccessKey":"b","Expiration":"soon"}"#,
        ] {
            #expect(throws: ObjectStoreError.self) { try AWSCredentialDocuments.parseJSON(Array(bad.utf8), what: "x") }
        }
    }
}
