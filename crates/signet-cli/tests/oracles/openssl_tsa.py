"""A TSA we did not write: `openssl ts -reply` behind a loopback HTTP server, with genTime to the
millisecond (`clock_precision_digits = 3`, as many production TSAs send it).

  openssl_tsa.py DIR [garbage]   (DIR holds tsa.crt — the TSA certificate first, then its issuers —
                        and tsa.pem, its unencrypted key)
Prints the URL on the first line of stdout, then serves application/timestamp-query POSTs
until killed.
"""
import http.server
import os
import subprocess
import sys
import tempfile

DIR = os.path.abspath(sys.argv[1])
MODE = sys.argv[2] if len(sys.argv) > 2 else "ok"  # "garbage": answer 200 with junk
CONFIG = os.path.join(DIR, "tsa.cnf")
with open(CONFIG, "w") as f:
    f.write(f"""[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {DIR}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.pem
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 3
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
with open(os.path.join(DIR, "tsaserial"), "w") as f:
    f.write("01\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if MODE == "garbage":
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", "12")
            self.end_headers()
            self.wfile.write(b"not a reply!")
            return
        with tempfile.TemporaryDirectory() as t:
            q, r = os.path.join(t, "q.tsq"), os.path.join(t, "r.tsr")
            open(q, "wb").write(body)
            subprocess.run(["openssl", "ts", "-reply", "-config", CONFIG, "-queryfile", q, "-out", r],
                           check=True, capture_output=True)
            reply = open(r, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
server.serve_forever()
