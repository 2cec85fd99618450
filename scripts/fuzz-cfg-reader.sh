#!/usr/bin/env bash
# Differential fuzzing of the Darknet cfg reader: libFuzzer + AddressSanitizer on a small program
# made of Sources/Inference/Darknet/CfgReader.swift (on UTF-8 bytes) and the earlier reader on
# Characters (Tests/InferenceTests/ReferenceCfgReader.swift); an input on which the two give
# different sections, options, line numbers or error messages aborts, and libFuzzer keeps it
# (crash-*). Seeds: every cfg in ../shared/data. Builds in seconds, unlike scripts/fuzz.sh's
# ASan build of the whole package (whose cfg target runs the new reader through DarknetConfig).
#
#   scripts/fuzz-cfg-reader.sh [SECONDS]        default: 300
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp Sources/Inference/InferenceError.swift Sources/Inference/Darknet/CfgSection.swift \
  Sources/Inference/Darknet/CfgReader.swift "$work/"
grep -v '^@testable import' Tests/InferenceTests/ReferenceCfgReader.swift >"$work/ReferenceCfgReader.swift"
cat >"$work/fuzz.swift" <<'SWIFT'
import Glibc

func outcome(_ read: (String) throws -> [CfgSection], _ text: String) -> String {
    do {
        return try read(text).map { section in
            "\(Array(section.type.utf8))@\(section.line):"
                + section.options.map { "\(Array($0.key.utf8))=\(Array($0.value.utf8))@\($0.line)" }
                .joined(separator: ",")
        }.joined(separator: "|")
    } catch let error as InferenceError {
        return "error \(error.code): \(Array(error.message.utf8))"
    } catch {
        return "foreign error \(error)"
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let expected = outcome(ReferenceCfgReader.sections(from:), text)
    let actual = outcome(CfgReader.sections(from:), text)
    if expected != actual {
        print("mismatch on \(text.debugDescription)\nCharacters: \(expected)\nbytes: \(actual)")
        abort()
    }
    return 0
}
SWIFT
swiftc -parse-as-library -sanitize=fuzzer,address -O -package-name Inference -module-name CfgFuzz \
  "$work"/*.swift -o "$work/cfg-fuzz" 2>&1 | grep -v "Cannot export local symbol" || true
mkdir -p "$work/corpus"
cp $(find ../shared/data -name '*.cfg') "$work/corpus/"
status=0
"$work/cfg-fuzz" -max_total_time="$seconds" -max_len=12000 -print_final_stats=1 "$work/corpus" \
  >"$work/log" 2>&1 || status=$?
grep -E "^(Done|stat::number_of_executed_units|mismatch|Characters|bytes|==|artifact_prefix|Test unit)" "$work/log" || true
exit "$status"
