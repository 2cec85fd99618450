import Foundation
import ObjectStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The local cache (`MSCR_CACHE_DIR`): verified copies only, still verified on a hit, never a
/// reason for a load to fail, and kept under its size cap.
@Suite struct ModelCacheTests {
    let store = MemoryObjectStore(chunkSize: 4096)

    func publish(_ model: String, bytes: [UInt8]) throws -> Manifest.File {
        let manifest = try ModelRepository(store: store).publish(
            model: model, format: "x", files: ["model.weights": bytes])
        return try #require(manifest.files["model.weights"])
    }

    func load(_ model: String, cache: ModelCache) throws -> (bytes: [UInt8], stats: TransferStats) {
        try ModelRepository(store: store, cache: cache).resolve(model: model, version: "latest").read("model.weights")
    }

    @Test func aMissIsStoredAndAHitStreamsFromDisk() throws {
        let cache = ModelCache(directory: try temporaryDirectory("cache"))
        let bytes = testBytes(50_000, seed: 1)
        let entry = try publish("m", bytes: bytes)
        let first = try load("m", cache: cache)
        #expect(first.bytes == bytes)
        #expect(first.stats.cacheStores == 1 && first.stats.cacheHits == 0)
        #expect(FileManager.default.fileExists(atPath: cache.directory + "/" + entry.sha256))
        // The remote copy goes away: the hit must come from disk.
        store.remove("m/1/model.weights")
        let second = try load("m", cache: cache)
        #expect(second.bytes == bytes)
        #expect(second.stats.cacheHits == 1)
    }

    @Test func aCorruptCachedCopyFailsVerificationAndIsDeleted() throws {
        let cache = ModelCache(directory: try temporaryDirectory("cache"))
        let bytes = testBytes(20_000, seed: 2)
        let entry = try publish("m", bytes: bytes)
        _ = try load("m", cache: cache)
        let path = cache.directory + "/" + entry.sha256
        var corrupt = bytes
        corrupt[100] ^= 1
        try Data(corrupt).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: ObjectStoreError.self) { try load("m", cache: cache) }
        #expect(error.code == .integrity)
        #expect(error.message.contains("cached as \(path)"))
        #expect(!FileManager.default.fileExists(atPath: path))
        // The next load fetches from the store again, and re-caches.
        let again = try load("m", cache: cache)
        #expect(again.bytes == bytes && again.stats.cacheStores == 1)
    }

    @Test func bytesThatFailVerificationAreNeverCached() throws {
        let directory = try temporaryDirectory("cache")
        let cache = ModelCache(directory: directory)
        _ = try publish("m", bytes: testBytes(10_000, seed: 3))
        try store.put("m/1/model.weights", bytes: testBytes(10_000, seed: 4), contentType: "x")
        #expect(throws: ObjectStoreError.self) { try load("m", cache: cache) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "no entry, no temp file left")
    }

    @Test func aFullDiskNeverFailsTheLoad() throws {
        // Every cache write goes to /dev/full: the kernel answers ENOSPC.
        let cache = ModelCache(directory: try temporaryDirectory("cache")) { _ in open("/dev/full", O_WRONLY) }
        let bytes = testBytes(30_000, seed: 5)
        let entry = try publish("m", bytes: bytes)
        let result = try load("m", cache: cache)
        #expect(result.bytes == bytes)
        #expect(result.stats.cacheFailures == 1 && result.stats.cacheStores == 0)
        #expect(!FileManager.default.fileExists(atPath: cache.directory + "/" + entry.sha256))
    }

    @Test func anUnwritableDirectoryNeverFailsTheLoad() throws {
        let cache = ModelCache(directory: "/proc/mscr-cannot-create-this")
        let bytes = testBytes(1000, seed: 6)
        _ = try publish("m", bytes: bytes)
        let result = try load("m", cache: cache)
        #expect(result.bytes == bytes && result.stats.cacheFailures == 1)
    }

    @Test func theCacheStaysUnderItsCapDroppingTheLeastRecentlyUsed() throws {
        let cache = ModelCache(directory: try temporaryDirectory("cache"), maxBytes: 25_000)
        var entries: [Manifest.File] = []
        for i in 0..<3 {
            entries.append(try publish("m\(i)", bytes: testBytes(10_000, seed: UInt64(10 + i))))
        }
        _ = try load("m0", cache: cache)
        _ = try load("m1", cache: cache)
        // Make m0 the oldest, then use it: m1 becomes the least recently used.
        let old = timespec(tv_sec: 1_000_000, tv_nsec: 0)
        for entry in entries.prefix(2) {
            var times = [old, old]
            _ = utimensat(AT_FDCWD, cache.directory + "/" + entry.sha256, &times, 0)
        }
        #expect(try load("m0", cache: cache).stats.cacheHits == 1)
        _ = try load("m2", cache: cache)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: cache.directory))
        #expect(names == [entries[0].sha256, entries[2].sha256])
    }

    @Test func aFileLargerThanTheCapIsNotCached() throws {
        let cache = ModelCache(directory: try temporaryDirectory("cache"), maxBytes: 1000)
        _ = try publish("m", bytes: testBytes(5000, seed: 7))
        let result = try load("m", cache: cache)
        #expect(result.stats.cacheStores == 0 && result.stats.cacheFailures == 0)
    }

    @Test func environmentConfiguresTheCache() throws {
        #expect(try ModelCache.fromEnvironment([:]) == nil)
        let cache = try ModelCache.fromEnvironment(["MSCR_CACHE_DIR": "/tmp/c", "MSCR_CACHE_MAX_BYTES": "12345"])
        #expect(cache?.directory == "/tmp/c" && cache?.maxBytes == 12345)
        let repository = try? ModelRepository.open("memory://x", environment: ["MSCR_CACHE_DIR": "/tmp/c"])
        #expect(repository?.cache == nil, "a local store needs no cache")
    }

    @Test("a cache size that is not a positive integer is an error naming the variable", arguments: ["12k", "-5", "0"])
    func badCacheSizeIsAnError(_ value: String) {
        #expect {
            _ = try ModelCache.fromEnvironment(["MSCR_CACHE_DIR": "/tmp/c", "MSCR_CACHE_MAX_BYTES": value])
        } throws: { error in
            (error as? ObjectStoreError)?.code == .configuration
                && (error as? ObjectStoreError)?.message.hasPrefix("MSCR_CACHE_MAX_BYTES=\(value)") == true
        }
    }
}
