// A real OpenID provider (oidc-provider 9) on a loopback port, for the service's end-to-end
// sign-in check (tests/contract/oidc_check.sh). Test use only: the built-in development login
// form accepts any login name with any password, then asks for consent.
//
// Usage: node provider.mjs PORT   (or OIDC_PORT=PORT node provider.mjs)
// Environment: OIDC_CLIENT_ID (dma-web), OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI (the service's
// {public_url}/app/oidc/callback).
//
// One confidential client: authorisation code only, PKCE (S256) required,
// client_secret_basic at the token endpoint. Scope `dma` carries the claims `role` and `orgs`.
// Accounts (any other login name is an account with no role):
//   analyst1   role analyst                  (claims in the ID token and at userinfo)
//   submitter1 role submitter, orgs ["RGT"]  (claims at userinfo only: the service must ask)
//   norole1    no role
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const clientId = process.env.OIDC_CLIENT_ID || 'dma-web';
const clientSecret = process.env.OIDC_CLIENT_SECRET;
const redirectUri = process.env.OIDC_REDIRECT_URI;
if (!clientSecret || !redirectUri) {
  console.error('OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI are needed');
  process.exit(2);
}

const accounts = {
  analyst1: { name: 'Ann Analyst', role: 'analyst' },
  submitter1: { name: 'Sam Submitter', role: 'submitter', orgs: ['RGT'], userinfoOnly: true },
  norole1: { name: 'No Role' },
};

// A signing key made for this run: the service must read it from the provider's JWKS.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `test-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name'],
    dma: ['role', 'orgs'],
  },
  // Claims asked for by scope go into the ID token too (not only to userinfo), so that both the
  // ID token path (analyst1) and the userinfo path (submitter1) of the service are exercised.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
  },
  async findAccount(ctx, id) {
    const account = accounts[id] || {};
    return {
      accountId: id,
      async claims(use) {
        const out = { sub: id, name: account.name || id };
        if (account.userinfoOnly && use !== 'userinfo') return out;
        if (account.role) out.role = account.role;
        if (account.orgs) out.orgs = account.orgs;
        return out;
      },
    };
  },
};

const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
