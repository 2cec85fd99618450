import Functions
import Runtime
import Testing

@Suite struct TracingConfigurationTests {
    @Test("tracing is off when no OTEL_* variable asks for it")
    func offWhenUnset() throws {
        #expect(try TracingConfiguration.fromEnvironment([:]).enabled == false)
        // Settings alone do not turn it on; only an endpoint or an exporter does.
        let settingsOnly = try TracingConfiguration.fromEnvironment([
            "OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on", "OTEL_BSP_SCHEDULE_DELAY": "100",
        ])
        #expect(settingsOnly.enabled == false)
        #expect(try RuntimeConfiguration.fromEnvironment([:]).tracing.enabled == false)
    }

    @Test("an endpoint or OTEL_TRACES_EXPORTER=otlp turns it on; none and OTEL_SDK_DISABLED turn it off")
    func enabling() throws {
        let endpoint = try TracingConfiguration.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"])
        #expect(endpoint.enabled && endpoint.tracesURL == "http://c:4318/v1/traces")
        let slash = try TracingConfiguration.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"])
        #expect(slash.tracesURL == "http://c:4318/v1/traces")
        let specific = try TracingConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t/x",
        ])
        #expect(specific.enabled && specific.tracesURL == "https://t/x")
        let exporter = try TracingConfiguration.fromEnvironment(["OTEL_TRACES_EXPORTER": "otlp"])
        #expect(exporter.enabled && exporter.tracesURL == "http://localhost:4318/v1/traces")
        let none = try TracingConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none",
        ])
        #expect(none.enabled == false)
        let disabled = try TracingConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true",
        ])
        #expect(disabled.enabled == false)
    }

    @Test("service name, resource attributes and batch settings are read")
    func settings() throws {
        let c = try TracingConfiguration.fromEnvironment([
            "K_SERVICE": "from-knative", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod, team = ml",
            "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "1000", "OTEL_BSP_MAX_QUEUE_SIZE": "100",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
        ])
        #expect(c.serviceName == "from-knative")
        #expect(c.resourceAttributes == ["deployment.environment": "prod", "team": "ml"])
        #expect(c.batchScheduleDelay == .milliseconds(250) && c.batchExportTimeout == .seconds(1))
        #expect(c.batchMaxQueueSize == 100 && c.batchMaxExportSize == 10)
        #expect(c.otlpProtocol == .httpProtobuf && c.exportTimeout == .milliseconds(2500))
        #expect(try TracingConfiguration.fromEnvironment([:]).serviceName == "mscr")
        let named = try TracingConfiguration.fromEnvironment([
            "K_SERVICE": "k", "OTEL_RESOURCE_ATTRIBUTES": "service.name=r", "OTEL_SERVICE_NAME": "explicit",
        ])
        #expect(named.serviceName == "explicit")
        let fromResource = try TracingConfiguration.fromEnvironment(["OTEL_RESOURCE_ATTRIBUTES": "service.name=r"])
        #expect(fromResource.serviceName == "r")
    }

    @Test(
        "every sampler of the specification maps, with its argument",
        arguments: [
            ("always_on", nil, TracingConfiguration.Sampler.alwaysOn),
            ("always_off", nil, .alwaysOff),
            ("traceidratio", "0.25", .traceIDRatio(0.25)),
            ("traceidratio", nil, .traceIDRatio(1)),
            ("parentbased_always_on", nil, .parentBasedAlwaysOn),
            ("parentbased_always_off", nil, .parentBasedAlwaysOff),
            ("parentbased_traceidratio", "0", .parentBasedTraceIDRatio(0)),
            ("PARENTBASED_TRACEIDRATIO", "1", .parentBasedTraceIDRatio(1)),
        ] as [(String, String?, TracingConfiguration.Sampler)])
    func samplers(_ name: String, _ argument: String?, _ expected: TracingConfiguration.Sampler) throws {
        var env = ["OTEL_TRACES_SAMPLER": name]
        if let argument { env["OTEL_TRACES_SAMPLER_ARG"] = argument }
        #expect(try TracingConfiguration.fromEnvironment(env).sampler == expected)
    }

    @Test("the default sampler is parentbased_always_on")
    func defaultSampler() throws {
        #expect(try TracingConfiguration.fromEnvironment([:]).sampler == .parentBasedAlwaysOn)
    }

    @Test(
        "a bad OTEL_* value stops the start with an error that names the variable",
        arguments: [
            ("OTEL_TRACES_SAMPLER", "sometimes"), ("OTEL_TRACES_EXPORTER", "jaeger"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"), ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"), ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x/y"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"), ("OTEL_BSP_SCHEDULE_DELAY", "-1"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "soon"), ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"), ("OTEL_RESOURCE_ATTRIBUTES", "team"),
            ("OTEL_SDK_DISABLED", "maybe"),
        ])
    func badValueStopsTheStart(_ name: String, _ value: String) {
        #expect {
            _ = try RuntimeConfiguration.fromEnvironment([name: value])
        } throws: { error in
            "\(error)".hasPrefix("\(name)=") && "\(error)".contains(" is not ")
        }
    }

    @Test("a sampler argument outside 0...1 names OTEL_TRACES_SAMPLER_ARG", arguments: ["1.5", "-0.1", "half"])
    func badRatio(_ value: String) {
        #expect {
            _ = try TracingConfiguration.fromEnvironment([
                "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": value,
            ])
        } throws: { error in
            "\(error)".hasPrefix("OTEL_TRACES_SAMPLER_ARG=\(value) is not")
        }
    }
}
