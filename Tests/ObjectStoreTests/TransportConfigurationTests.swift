import ObjectStore
import Testing

@Suite struct TransportConfigurationTests {
    @Test("the MSCR_STORE_* variables set the transport")
    func environmentSetsTheTransport() throws {
        let c = try TransportConfiguration(environment: [
            "MSCR_STORE_RETRIES": "2", "MSCR_STORE_DEADLINE": "7.5", "MSCR_STORE_CONNECT_TIMEOUT": "3",
            "MSCR_STORE_STALL_TIMEOUT": "4", "MSCR_STORE_CA_FILE": "/etc/ca.pem",
        ])
        #expect(c.maxAttempts == 2 && c.deadline == 7.5 && c.connectTimeout == 3 && c.stallTimeout == 4)
        #expect(c.caFile == "/etc/ca.pem")
        #expect(try TransportConfiguration(environment: [:]) == TransportConfiguration())
    }

    @Test(
        "a value that does not parse stops with an error naming the variable",
        arguments: [
            ("MSCR_STORE_RETRIES", "three"), ("MSCR_STORE_RETRIES", "0"), ("MSCR_STORE_RETRIES", "2.5"),
            ("MSCR_STORE_DEADLINE", "-1"), ("MSCR_STORE_DEADLINE", "60s"), ("MSCR_STORE_CONNECT_TIMEOUT", "0"),
            ("MSCR_STORE_STALL_TIMEOUT", "inf"),
        ])
    func badValuesAreErrors(_ name: String, _ value: String) {
        #expect {
            _ = try TransportConfiguration(environment: [name: value])
        } throws: { error in
            guard let e = error as? ObjectStoreError else { return false }
            return e.code == .configuration && e.message.hasPrefix("\(name)=\(value) is not")
        }
    }
}
