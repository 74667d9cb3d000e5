"""A small OpenID Connect issuer for the tests, on localhost, over real HTTP.

It serves its discovery document and its keys (JWKS), signs tokens with RS256 or ES256 keys it
generates, and runs the authorization code flow with PKCE (S256) for one configured person, who is
"logged in" as soon as the browser reaches its authorization endpoint. Keys can be added and removed
(rotation). Not for production: it exists so that the services' and the console's identity code is
tested against a real issuer, not a stub of the library it uses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ambiti_kit.testing.fixtures import free_port


class LocalIssuer:
    def __init__(self, audience: str = "ambiti") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/realms/ambiti"
        self.audience = audience
        self.keys: dict[str, tuple[str, Any]] = {}  # kid -> (algorithm, private key)
        self.jwks_requests = 0
        #: the claims of the person the authorization endpoint logs in
        self.persona: dict[str, Any] = {"sub": "mario.rossi", "roles": ["coordinatore"], "tenant": "15-S09"}
        #: redirect URIs a client may use, per client id
        self.clients: dict[str, set[str]] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # -- keys and tokens -------------------------------------------------------------------
    def add_key(self, kid: str, algorithm: str = "RS256") -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256" \
            else ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = (algorithm, key)

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, (algorithm, key) in self.keys.items():
            tool = jwt.algorithms.RSAAlgorithm if algorithm == "RS256" else jwt.algorithms.ECAlgorithm
            out.append({**json.loads(tool.to_jwk(key.public_key())), "kid": kid, "use": "sig", "alg": algorithm})
        return {"keys": out}

    def public_pem(self, kid: str) -> bytes:
        return self.keys[kid][1].public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    def token(self, kid: str | None = None, **claims: Any) -> str:
        kid = kid or next(iter(self.keys))
        now = int(time.time())
        body = {"iss": self.url, "aud": self.audience, "iat": now, "exp": now + 300, **self.persona, **claims}
        algorithm, key = self.keys[kid]
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=algorithm,
                          headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- HTTP ------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self
        base = urlsplit(self.url).path

        class Handler(BaseHTTPRequestHandler):
            def _json(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                if path == f"{base}/.well-known/openid-configuration":
                    self._json({"issuer": issuer.url, "jwks_uri": f"{issuer.url}/certs",
                                "authorization_endpoint": f"{issuer.url}/auth", "token_endpoint": f"{issuer.url}/token",
                                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"]})
                elif path == f"{base}/certs":
                    issuer.jwks_requests += 1
                    self._json(issuer.jwks())
                elif path == f"{base}/auth":
                    q = {k: v[0] for k, v in parse_qs(query).items()}
                    if (q.get("response_type") != "code" or q.get("redirect_uri") not in issuer.clients.get(
                            q.get("client_id", ""), set()) or q.get("code_challenge_method") != "S256"
                            or not q.get("code_challenge")):
                        self._json({"error": "invalid_request"}, 400)
                        return
                    code = secrets.token_urlsafe(24)
                    issuer._codes[code] = q
                    self.send_response(302)
                    self.send_header("Location", f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")
                    self.end_headers()
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                if self.path != f"{base}/token":
                    self.send_error(404)
                    return
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                asked = issuer._codes.pop(form.get("code", ""), None)  # a code is good once
                challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode())
                                                     .digest()).rstrip(b"=").decode()
                if (asked is None or form.get("grant_type") != "authorization_code"
                        or form.get("redirect_uri") != asked["redirect_uri"]
                        or form.get("client_id") != asked["client_id"] or challenge != asked["code_challenge"]):
                    self._json({"error": "invalid_grant"}, 400)
                    return
                self._json({"token_type": "Bearer", "expires_in": 300, "access_token": issuer.token(),
                            "id_token": issuer.token(aud=asked["client_id"], nonce=asked.get("nonce"))})

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
