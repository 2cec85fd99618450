internal import Detect
internal import Functions
internal import InferenceKernels
public import MSCRFunctions
package import Runtime
internal import Stock

/// The entry point of a server built from your own functions.
///
/// ```swift
/// import MSCRMain
///
/// @main
/// struct Main {
///     static func main() async throws {
///         try await MSCR.serve(functions: [CountPeople.self])
///     }
/// }
/// ```
public enum MSCR {
    /// The functions every server offers on the public API: detect (kinds `detect`, `darknet-yolo`)
    /// and stock (kind `lstm-regressor`).
    static let builtInFunctions: [any InferenceFunction.Type] = [Detect.self, DarknetYOLO.self, Stock.self]

    /// The host kinds of ``builtInFunctions`` (what `mscr serve` registers).
    package static func builtInFunctionKinds() throws -> [any HostedKind] {
        try TypedFunctionKinds.make(builtInFunctions)
    }

    /// Serves the functions configured in `$MSCR_FUNCTIONS` (default `./functions`,
    /// one `<name>/function.json` each) over HTTP on `$PORT`, exactly as `mscr serve` does: the
    /// same flags and environment variables (README.md), the same routes
    /// (`POST /functions/<name>`, health, metrics, admin; the V2 tensor protocol, REST and gRPC,
    /// for the built-in kinds and the functions that adopt ``TensorInterface``), JSON logs, and a
    /// graceful drain on SIGTERM or SIGINT.
    ///
    /// The process's arguments are `mscr serve`'s: `[serve] [--port N] [--host A] [--functions DIR]
    /// [--repository URI] [--log-format json|text] [--port-file PATH]`; `--version` prints the
    /// program's name and returns, `--help` lists the flags.
    ///
    /// A `function.json` whose `kind` is one of `functions`' ``InferenceFunction/kind`` runs that
    /// function; the built-in kinds (`detect`, `darknet-yolo`, `lstm-regressor`) stay available.
    ///
    /// Returns after a graceful shutdown. A bad configuration (environment, `function.json`, an
    /// unknown `kind`, a bad `params` value) exits the process with status 1 and the reason on
    /// stderr and in `/dev/termination-log`.
    /// - Throws: ``FunctionFailure`` when two functions declare the same `kind` or one takes a
    ///   built-in kind's name.
    public static func serve(functions: [any InferenceFunction.Type]) async throws {
        Gemm.stopOwnThreads()
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "serve" { arguments.removeFirst() }
        if arguments == ["--version"] {
            print("\(CommandLine.arguments.first ?? "server") (built on the mscr runtime)")
            return
        }
        let options = ServeOptions.parseOrExit(arguments)
        var configuration = Serve.configurationFromEnvironment()
        do {
            try options.apply(to: &configuration)
        } catch {
            ServeOptions.exit(withError: error)
        }
        let kinds: [any HostedKind]
        do {
            kinds = try TypedFunctionKinds.make(Self.builtInFunctions + functions)
        } catch {
            throw FunctionFailure.invalidInput("\(error)")
        }
        await Serve.run(configuration: configuration, extraKinds: kinds, portFile: options.portFile)
    }
}
