// Verification snippets per signature algorithm and language: Standard Webhooks libraries, JWT libraries, or Ed25519.
import type { SignatureAlgo } from './types';

export type Language = 'Node.js' | 'Python' | 'Go';
export const LANGUAGES: Language[] = ['Node.js', 'Python', 'Go'];

const HMAC: Record<Language, string> = {
  'Node.js': `// npm install standardwebhooks
import { Webhook } from 'standardwebhooks';

const wh = new Webhook(process.env.HOOKLINE_WEBHOOK_SECRET); // whsec_…

// body: the raw request body (a string), exactly as received.
export function verify(body, headers) {
  // Throws when no signature matches; during a rotation either secret's signature does.
  return wh.verify(body, {
    'webhook-id': headers['webhook-id'],
    'webhook-timestamp': headers['webhook-timestamp'],
    'webhook-signature': headers['webhook-signature'],
  });
}`,
  Python: `# pip install standardwebhooks
import os
from standardwebhooks.webhooks import Webhook

wh = Webhook(os.environ["HOOKLINE_WEBHOOK_SECRET"])  # whsec_…

def verify(body: bytes, headers) -> dict:
    # Raises when no signature matches; during a rotation either secret's signature does.
    return wh.verify(body, {
        "webhook-id": headers["webhook-id"],
        "webhook-timestamp": headers["webhook-timestamp"],
        "webhook-signature": headers["webhook-signature"],
    })`,
  Go: `// go get github.com/standard-webhooks/standard-webhooks/libraries/go
import (
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func verify(body []byte, headers http.Header) error {
	wh, err := standardwebhooks.NewWebhook(os.Getenv("HOOKLINE_WEBHOOK_SECRET")) // whsec_…
	if err != nil {
		return err
	}
	// An error when no signature matches; during a rotation either secret's signature does.
	return wh.Verify(body, headers)
}`,
};

const JWT: Record<Language, string> = {
  'Node.js': `// npm install jose
import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';

const secret = process.env.HOOKLINE_WEBHOOK_SECRET; // whsec_…
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');

// body: the raw request body, exactly as received.
export async function verify(body, headers) {
  const digest = createHash('sha256').update(body).digest('base64url');
  // During a rotation the header holds one token per secret, space-separated.
  for (const token of headers['webhook-jwt'].split(' ')) {
    try {
      const { payload } = await jwtVerify(token, key, { issuer: 'hookline', algorithms: ['HS256'] });
      if (payload.body_sha256 === digest && payload.jti === headers['webhook-id']) return JSON.parse(body);
    } catch {
      // Signed with the other secret, or expired: try the next token.
    }
  }
  throw new Error('invalid webhook-jwt');
}`,
  Python: `# pip install PyJWT
import base64, hashlib, json, os
import jwt

secret = os.environ["HOOKLINE_WEBHOOK_SECRET"]  # whsec_…
key = base64.b64decode(secret.removeprefix("whsec_"))

def verify(body: bytes, headers) -> dict:
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
    # During a rotation the header holds one token per secret, space-separated.
    for token in headers["webhook-jwt"].split(" "):
        try:
            claims = jwt.decode(token, key, algorithms=["HS256"], issuer="hookline")
        except jwt.InvalidTokenError:
            continue
        if claims["body_sha256"] == digest and claims["jti"] == headers["webhook-id"]:
            return json.loads(body)
    raise ValueError("invalid webhook-jwt")`,
  Go: `// go get github.com/golang-jwt/jwt/v5
import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

func verify(body []byte, headers http.Header) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(os.Getenv("HOOKLINE_WEBHOOK_SECRET"), "whsec_"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	digest := base64.RawURLEncoding.EncodeToString(sum[:])
	// During a rotation the header holds one token per secret, space-separated.
	for _, token := range strings.Split(headers.Get("webhook-jwt"), " ") {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("hookline"))
		if err == nil && claims["body_sha256"] == digest && claims["jti"] == headers.Get("webhook-id") {
			return nil
		}
	}
	return errors.New("invalid webhook-jwt")
}`,
};

// The official Standard Webhooks libraries verify v1 (HMAC) only, so v1a (Ed25519) uses each platform's Ed25519.
const ED25519: Record<Language, string> = {
  'Node.js': `import { createPublicKey, verify as verifySignature } from 'node:crypto';

const publicKey = process.env.HOOKLINE_WEBHOOK_PUBLIC_KEY; // whpk_…
const key = createPublicKey({
  key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url') },
  format: 'jwk',
});

// body: the raw request body, exactly as received.
export function verify(body, headers) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) throw new Error('stale webhook-timestamp');
  const signed = Buffer.from(\`\${id}.\${timestamp}.\${body}\`);
  // During a rotation the header holds one v1a signature per key, space-separated.
  const valid = headers['webhook-signature'].split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    return version === 'v1a' && verifySignature(null, signed, key, Buffer.from(signature, 'base64'));
  });
  if (!valid) throw new Error('invalid webhook-signature');
  return JSON.parse(body);
}`,
  Python: `# pip install cryptography
import base64, json, os, time
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

public_key = os.environ["HOOKLINE_WEBHOOK_PUBLIC_KEY"]  # whpk_…
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))

def verify(body: bytes, headers) -> dict:
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        raise ValueError("stale webhook-timestamp")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    # During a rotation the header holds one v1a signature per key, space-separated.
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed)
            return json.loads(body)
        except InvalidSignature:
            continue
    raise ValueError("invalid webhook-signature")`,
  Go: `import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func verify(body []byte, headers http.Header) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(os.Getenv("HOOKLINE_WEBHOOK_PUBLIC_KEY"), "whpk_"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return errors.New("bad public key")
	}
	id, timestamp := headers.Get("webhook-id"), headers.Get("webhook-timestamp")
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || math.Abs(float64(time.Now().Unix()-seconds)) > 300 {
		return errors.New("stale webhook-timestamp")
	}
	signed := append([]byte(id+"."+timestamp+"."), body...)
	// During a rotation the header holds one v1a signature per key, space-separated.
	for _, entry := range strings.Split(headers.Get("webhook-signature"), " ") {
		version, signature, _ := strings.Cut(entry, ",")
		raw, err := base64.StdEncoding.DecodeString(signature)
		if version == "v1a" && err == nil && ed25519.Verify(key, signed, raw) {
			return nil
		}
	}
	return errors.New("invalid webhook-signature")
}`,
};

export function snippet(algo: SignatureAlgo, language: Language): string {
  const table = algo === 'jwt' ? JWT : algo === 'ed25519' ? ED25519 : HMAC;
  return table[language];
}

export function snippetIntro(algo: SignatureAlgo): string {
  switch (algo) {
    case 'jwt':
      return 'Each delivery carries a webhook-jwt header: an HS256 token keyed by the secret’s bytes, whose body_sha256 claim is the body’s digest. Verify it with a JWT library.';
    case 'ed25519':
      return 'Each delivery carries webhook-id, webhook-timestamp and a webhook-signature of v1a (Ed25519) signatures over "{id}.{timestamp}.{body}". Verify it with the public key below; the secret key never leaves Hookline.';
    default:
      return 'Each delivery carries the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256). Verify them with an official Standard Webhooks library.';
  }
}
