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
        fputs("set MSCR_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n", stderr)
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if case .unexpected(let why) = target.run(Array(UnsafeBufferPointer(start: data, count: size))) {
        fputs("unexpected outcome: \(why)\n", stderr)
        abort()
    }
    return 0
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
