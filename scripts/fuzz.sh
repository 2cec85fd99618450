#!/usr/bin/env bash
# Fuzzes the parsers that read outside bytes (issue 8) with libFuzzer + AddressSanitizer, each
# target for a bounded time, and keeps every crash as a regression input
# Tests/FuzzTargetsTests/Regressions/<target>-crash-<hash>.bin (replayed by `swift test`).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default: 120 s, all targets
#
# Targets: image (the libjpeg/libpng shim), csv (the runtime's stock series codec: CSV/JSON, forms), cfg (Darknet cfg parser),
# weights (the streaming weights reader), v2 (the Open Inference Protocol request parser),
# onnx (the ONNX importer: protobuf, validation, folding, kernels; then a run of small graphs),
# grpc (the gRPC V2 ModelInferRequest decoding).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(image csv cfg weights v2 onnx grpc)
scratch=.build-fuzz
py=.venv/bin/python; [ -x "$py" ] || py=python3
# libFuzzer's coverage flags and ASan, with libFuzzer linked without its main (mscr-fuzz hands
# the command line to LLVMFuzzerRunDriver). Not -sanitize=fuzzer: SwiftPM passes -Xswiftc flags
# to the EmbedWeb plugin's tool too, and a fuzzer link of that tool fails (its main comes by
# --defsym, so the linker pulls libFuzzer's main, which needs LLVMFuzzerTestOneInput).
libfuzzer=$(dirname "$(command -v swiftc)")/../lib/swift/clang/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a
[ -f "$libfuzzer" ] || { echo "fuzz: no $libfuzzer in this toolchain" >&2; exit 1; }
echo "fuzz: building mscr-fuzz with ASan and libFuzzer's coverage into $scratch"
swift build --scratch-path "$scratch" --product mscr-fuzz \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
  -Xswiftc -DFUZZING -Xlinker "$libfuzzer" -Xlinker -lstdc++ \
  -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | grep -E "error|Compiling mscr|Build complete|Linking" || true
binary="$scratch/debug/mscr-fuzz"
[ -x "$binary" ] || { echo "fuzz: build failed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in "${targets[@]}"; do
  corpus="$work/corpus-$target"; artifacts="$work/crashes-$target/"
  mkdir -p "$corpus" "$artifacts"
  "$py" scripts/fuzz-seeds.py "$target" "$corpus"
  echo "fuzz: $target for ${seconds}s (seeds: $(ls "$corpus" | wc -l))"
  MSCR_FUZZ_TARGET=$target "$binary" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=65536 -timeout=10 -artifact_prefix="$artifacts" -print_final_stats=1 \
    >"$work/log-$target" 2>&1 || true
  grep -E "stat::number_of_executed_units|cov: " "$work/log-$target" | tail -2 | sed "s/^/fuzz: $target: /"
  found=$(find "$artifacts" -type f | wc -l)
  if [ "$found" -gt 0 ]; then
    for crash in "$artifacts"*; do
      cp "$crash" "Tests/FuzzTargetsTests/Regressions/$target-crash-$(sha1sum "$crash" | cut -c1-12).bin"
    done
    echo "fuzz: $target: $found crash(es) kept in Tests/FuzzTargetsTests/Regressions/$target-crash-*.bin"
    grep -E "ERROR|unexpected outcome|Fatal error" "$work/log-$target" | head -5
    status=1
  else
    echo "fuzz: $target: no crash"
  fi
done
exit $status
