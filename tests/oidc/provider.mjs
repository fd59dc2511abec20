// A standards OpenID Connect provider (panva's oidc-provider) standing in for VNeID in the
// sign-in interoperability tests (tests/auth). Started by tests/support/oidc_provider.py:
//
//   OIDC_PORT=<port> OIDC_CLIENTS_FILE=<clients.json> [OIDC_KEY_FILE=<jwk.json>] \
//     node tests/oidc/provider.mjs
//
// The clients come from the tests (tests/support/oidc_provider.py writes the file), so the
// redirect URIs match the ports of the app servers under test. Citizens are registered by the
// tests through POST /test-admin/accounts; the login interaction is a one-field form
// (POST /interaction/<uid>/login, field `login` = the citizen's subject) that also grants
// consent, so a script can drive it with plain HTTP. Bound to 127.0.0.1 only.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(readFileSync(process.env.OIDC_CLIENTS_FILE, 'utf8'));

const LOA1 = 'urn:vneid:loa:1';
const LOA2 = 'urn:vneid:loa:2';

// subject -> { name, birthdate, pid, acr }; replaced or added by POST /test-admin/accounts.
const accounts = new Map([
  ['citizen-loa2', {
    name: 'Nguyễn Thị Ánh Dương', birthdate: '2003-05-01', pid: '079203004567', acr: LOA2,
  }],
  ['citizen-loa1', {
    name: 'Trần Văn Bình', birthdate: '2003-05-01', pid: '079203004568', acr: LOA1,
  }],
]);

// The same key across a restart (OIDC_KEY_FILE), as a real provider keeps its keys.
function signingKey() {
  const file = process.env.OIDC_KEY_FILE;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-op-1', use: 'sig', alg: 'RS256' };
  if (file) writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const configuration = {
  clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true }, // every client, S256 only (oidc-provider 9 knows no other)
  acrValues: [LOA1, LOA2],
  claims: { openid: ['sub'], profile: ['name', 'birthdate', 'pid'] },
  conformIdTokenClaims: false, // the profile claims in the id_token too, as VNeID does
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: account.name, birthdate: account.birthdate, pid: account.pid };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>error</title><pre id="op-error">${
      JSON.stringify(out).replace(/[<>&]/g, '')}</pre>`;
  },
};

const provider = new Provider(issuer, configuration);
const providerHandler = provider.callback();

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction mismatch');
  if (req.method === 'GET' && !action) {
    return send(res, 200, 'text/html; charset=utf-8', `<!DOCTYPE html><title>login</title>
<form id="login" method="post" action="/interaction/${uid}/login">
<input name="login" autofocus><button type="submit">Sign in</button></form>
<form id="abort" method="post" action="/interaction/${uid}/abort"><button>Cancel</button></form>`);
  }
  if (req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed');
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the citizen cancelled',
    }, { mergeWithLastSubmission: false });
  }
  const form = new URLSearchParams(await readForm(req));
  const accountId = form.get('login');
  const account = accounts.get(accountId);
  if (!account) return send(res, 400, 'text/plain', 'unknown citizen');
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const missingClaims = details.prompt.details.missingOIDCClaims;
  if (missingClaims) grant.addOIDCClaims(missingClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, {
    login: { accountId, acr: account.acr, remember: false },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

async function admin(req, res) {
  const account = JSON.parse(await readForm(req));
  if (!account.sub) return send(res, 400, 'text/plain', 'sub is required');
  const previous = accounts.get(account.sub) || {};
  accounts.set(account.sub, { acr: LOA2, ...previous, ...account });
  return send(res, 200, 'application/json', JSON.stringify(accounts.get(account.sub)));
}

const server = http.createServer(async (req, res) => {
  try {
    const { pathname } = new URL(req.url, issuer);
    if (pathname === '/test-admin/accounts' && req.method === 'POST') {
      return await admin(req, res);
    }
    const match = pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    return providerHandler(req, res);
  } catch (error) {
    console.error(error);
    return send(res, 500, 'text/plain', String(error));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
