#!/usr/bin/env bash
# Times the Darknet cfg reader (Sources/Inference/Darknet/CfgReader.swift, on UTF-8 bytes) against
# the earlier one on Characters (kept as Tests/InferenceTests/ReferenceCfgReader.swift) on every
# cfg in ../shared/data: both compiled together with -O into one small program, run alternately
# (ROUNDS rounds of ITERATIONS parses each), median microseconds per parse and the ratio.
#
#   scripts/bench-cfg-reader.sh [ROUNDS] [ITERATIONS]        default: 15 rounds of 200 parses
#   scripts/bench-cfg-reader.sh --callgrind                  instructions per parse (valgrind),
#                                                            steady on a loaded box
set -euo pipefail
cd "$(dirname "$0")/.."
callgrind=false
if [ "${1:-}" = --callgrind ]; then callgrind=true; shift; fi
rounds=${1:-15}
iterations=${2:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp Sources/Inference/InferenceError.swift Sources/Inference/Darknet/CfgSection.swift \
  Sources/Inference/Darknet/CfgReader.swift "$work/"
grep -v '^@testable import' Tests/InferenceTests/ReferenceCfgReader.swift >"$work/ReferenceCfgReader.swift"
cat >"$work/main.swift" <<'SWIFT'
import Glibc

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1e6 + Double(t.tv_nsec) / 1e3
}
func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

let args = CommandLine.arguments
if args[1] == "old" || args[1] == "new" {  // callgrind mode: READER COUNT PATH
    let text = String(decoding: read(args[3]), as: UTF8.self)
    var sink = 0
    for _ in 0..<Int(args[2])! {
        sink &+= try! (args[1] == "old" ? ReferenceCfgReader.sections(from: text) : CfgReader.sections(from: text)).count
    }
    print(sink)
    exit(0)
}
let rounds = Int(args[1])!, iterations = Int(args[2])!
func read(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes += buffer[..<n]
    }
    fclose(file)
    return bytes
}
for path in args.dropFirst(3) {
    let bytes = read(path)
    let text = String(decoding: bytes, as: UTF8.self)
    var old: [Double] = [], new: [Double] = []
    var sink = 0
    for _ in 0..<rounds {
        var t = now()
        for _ in 0..<iterations { sink &+= try! ReferenceCfgReader.sections(from: text).count }
        old.append((now() - t) / Double(iterations))
        t = now()
        for _ in 0..<iterations { sink &+= try! CfgReader.sections(from: text).count }
        new.append((now() - t) / Double(iterations))
    }
    let name = path.split(separator: "/").last!
    print("\(name) (\(bytes.count) B): Characters \(Int(median(old))) µs, bytes \(Int(median(new))) µs, "
        + "\(Int((median(old) / median(new)).rounded()))x  [sink \(sink)]")
}
SWIFT
swiftc -O -package-name Inference -module-name CfgBench "$work"/*.swift -o "$work/cfg-bench"
if $callgrind; then
  # Instructions of 11 parses minus those of 1 (start-up and file reading cancel), over 10.
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/cfg-bench" "$@" 2>&1 |
    sed -n 's/.*refs: *//p' | tr -d ,; }
  for path in $(find ../shared/data -name '*.cfg' | sort); do
    old=$(( ($(ir old 11 "$path") - $(ir old 1 "$path")) / 10 ))
    new=$(( ($(ir new 11 "$path") - $(ir new 1 "$path")) / 10 ))
    echo "$(basename "$path"): Characters $old instructions, bytes $new instructions, $(( old / new ))x"
  done
  exit 0
fi
"$work/cfg-bench" "$rounds" "$iterations" $(find ../shared/data -name '*.cfg' | sort)
