#!/bin/sh
# examples/curl-client.c against a local HTTP server: the text streams to stdout, the
# message and the timing go to stderr, a cut stream and an HTTP error body exit 1. TAP.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${TKS_BUILD:-$top/build}/curl-client
tmp=$(mktemp -d)
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
if [ ! -x "$bin" ]; then echo "not ok 1 - $bin is built (make all with libcurl)"; echo 1..1; exit 1; fi

# The server answers every POST with the file named by the path, written in 7-byte
# chunks (chunked transfer encoding); /cut/F sends F without its last 40 bytes, /err
# answers 401 with an OpenAI-style error body.
cat >"$tmp/server.py" <<'EOF'
import http.server, os, sys
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/err":
            body = b'{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        cut = self.path.startswith("/cut/")
        data = open(os.path.join(root, os.path.basename(self.path)), "rb").read()
        if cut: data = data[:-40]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(data), 7):
            part = data[i:i + 7]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
EOF
python3 "$tmp/server.py" "$top/test/data/client" >"$tmp/port" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url="http://127.0.0.1:$(cat "$tmp/port")"

want() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.stdout.write(m["choices"][0]["content"] or "")' "$1"; }

for f in openai-chat.sse anthropic-tool.sse gemini-array.json ollama-chat.ndjson; do
    "$bin" --url "$url/$f" "hi" >"$tmp/out" 2>"$tmp/err"; rc=$?
    t $rc "$f over HTTP: exit 0"
    want "$top/test/data/client/${f%.*}.expected.json" >"$tmp/want"
    cmp -s "$tmp/out" "$tmp/want"; t $? "$f over HTTP: stdout is the message's text"
    grep -q '"complete":true' "$tmp/err"; t $? "$f over HTTP: the final message is complete"
done
grep -q '"usage":{"input_tokens":' "$tmp/err"; t $? "the final usage is printed"
grep -q 'time to first token' "$tmp/err"; t $? "the timing is printed"

"$bin" --url "$url/cut/openai-chat.sse" "hi" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ]; t $? "cut stream: exit 1"
grep -q '"complete":false' "$tmp/err"; t $? "cut stream: the message says complete:false"
[ -s "$tmp/out" ]; t $? "cut stream: the text received was printed"

"$bin" --url "$url/err" "hi" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ]; t $? "HTTP 401 error body: exit 1"
grep -q 'Incorrect API key provided' "$tmp/err"; t $? "HTTP 401 error body: the provider's message is shown"

"$bin" --file "$top/examples/streams/openai-chat.sse" >"$tmp/out" 2>"$tmp/err"; rc=$?
t $rc "--file: exit 0"
grep -q 'café' "$tmp/out"; t $? "--file: the text is printed"

echo "1..$n"
exit $fail
