"""An https front we did not write: Python's ssl module terminating TLS on loopback and passing
each request on to a plain-http backend (a TSA, a directory of CRLs, a Signet server).

  tls_proxy.py CERT KEY BACKEND_URL [PORT]
CERT is the server certificate chain (PEM), KEY its unencrypted key. Prints the https URL
(https://localhost:PORT/) on the first line of stdout, then serves until killed.
"""
import http.client
import http.server
import socketserver
import ssl
import sys
import urllib.parse

CERT, KEY, BACKEND = sys.argv[1], sys.argv[2], urllib.parse.urlsplit(sys.argv[3])
PORT = int(sys.argv[4]) if len(sys.argv) > 4 else 0


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        c = http.client.HTTPConnection(BACKEND.hostname, BACKEND.port, timeout=60)
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        c.close()

    do_GET = do_POST = do_PUT = do_DELETE = relay

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server = Server(("127.0.0.1", PORT), Proxy)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(f"https://localhost:{server.server_address[1]}/", flush=True)
server.serve_forever()
