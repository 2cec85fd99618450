"""A small TLS-terminating TCP proxy for tests: HTTPS clients connect to it, it forwards the
decrypted bytes to a plain HTTP backend (an mscr server), the way Cloud Run's front end does.

    python tls_proxy.py --port 0 --backend 127.0.0.1:8080 --cert cert.pem --key key.pem

Prints `listening <port>` once ready. `make_self_signed(dir)` writes a certificate for
127.0.0.1 and localhost with `openssl req` (no files are kept in the repository).
"""
import argparse
import asyncio
import pathlib
import ssl
import subprocess
import sys


def make_self_signed(directory: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """A one-day self-signed certificate (its own CA) for 127.0.0.1 and localhost."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=mscr test proxy",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return cert, key


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, ssl.SSLError, RuntimeError):
            pass


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--backend", required=True, help="host:port of the plain HTTP server")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args()
    host, port = a.backend.rsplit(":", 1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(a.cert, a.key)

    async def handle(client_reader, client_writer):
        try:
            backend_reader, backend_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, backend_writer), pump(backend_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", a.port, ssl=context)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
