import FuzzTargets

#if FUZZING
#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry point (built with `-sanitize=fuzzer -DFUZZING`; see scripts/fuzz.sh). The
/// target is `MSCR_FUZZ_TARGET`. An `unexpected` outcome aborts so the fuzzer keeps the input.
private let target: FuzzTarget = {
    let name = getenv("MSCR_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        printError("set MSCR_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        exit(2)
    }
    return target
}()

/// Writes a line to standard error (fd 2; the C `stderr` global is not concurrency-safe).
private func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if case .unexpected(let why) = target.run(Array(UnsafeBufferPointer(start: data, count: size))) {
        printError("unexpected outcome: \(why)")
        abort()
    }
    return 0
}

/// libFuzzer's driver; SwiftPM names an executable's entry point itself, so `main` below hands
/// the command line to libFuzzer instead of using libFuzzer's own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}
#else
#if canImport(Glibc)
import Glibc
#endif

/// Without the fuzzer: `mscr-fuzz TARGET FILE...` replays inputs (found crashes) and prints
/// each outcome; exit 1 if any is unexpected.
@main
struct FuzzReplay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: mscr-fuzz {\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))} FILE...")
            exit(2)
        }
        var failed = false
        for path in args.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("\(path): cannot open")
                failed = true
                continue
            }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n <= 0 { break }
                bytes.append(contentsOf: buffer[0..<n])
            }
            fclose(file)
            let outcome = target.run(bytes)
            print("\(path): \(outcome)")
            if case .unexpected = outcome { failed = true }
        }
        exit(failed ? 1 : 0)
    }
}
#endif
