import Functions
import Runtime
import Testing

@Suite struct RuntimeConfigurationTests {
    @Test("the environment sets what it names")
    func environmentIsRead() throws {
        let c = try RuntimeConfiguration.fromEnvironment([
            "PORT": "9000", "MSCR_LOG_FORMAT": "text", "MSCR_RETRAIN_ORDER": "newest-first",
            "MSCR_ENABLE_TEST_FUNCTIONS": "1", "MSCR_STORE_RETRIES": "2", "MSCR_WORKERS": "3",
            "MSCR_ARTIFACT": "off", "MSCR_ARTIFACT_WARMUP": "1",
        ])
        #expect(c.artifactPolicy == ArtifactPolicy(useArtifact: false, warmUp: true))
        #expect(try RuntimeConfiguration.fromEnvironment([:]).artifactPolicy == ArtifactPolicy(useArtifact: true))
        #expect(c.port == 9000 && c.logFormat == .text && c.enableTestFunctions && c.hostSettings.workers == 3)
        #expect(c.retrainOrder == .newestFirst)
    }

    @Test(
        "a bad value stops the start with an error that names the variable",
        arguments: [
            ("PORT", "http"), ("MSCR_LOG_FORMAT", "yaml"), ("MSCR_RETRAIN_ORDER", "sideways"),
            ("MSCR_ENABLE_TEST_FUNCTIONS", "yes"), ("MSCR_STORE_RETRIES", "many"), ("MSCR_STORE_DEADLINE", "-3"),
            ("MSCR_CACHE_MAX_BYTES", "1G"), ("MSCR_CONCURRENCY", "0"), ("LOG_LEVEL", "loud"),
            ("MSCR_REQUEST_TIMEOUT", "soon"), ("MSCR_ARTIFACT", "of"), ("MSCR_ARTIFACT_WARMUP", "yes"),
        ])
    func badValueStopsTheStart(_ name: String, _ value: String) {
        #expect {
            _ = try RuntimeConfiguration.fromEnvironment([name: value])
        } throws: { error in
            "\(error)".hasPrefix("\(name)=\(value) is not")
        }
    }
}
