/**
 * Secrets and demo credentials of an installation, created on first start and kept in the
 * data directory (mode 0600), so tokens stay valid and the demo passwords stay the same across
 * restarts — and differ between installations. `JWT_SECRET` and `INTERNAL_TOKEN_SECRET` in
 * the environment take precedence.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const Stored = z.object({
  jwtSecret: z.string().min(32),
  internalTokenSecret: z.string().min(32),
  demo: z.object({ alice: z.string().min(8), admin: z.string().min(8) }),
});

/** The installation's secrets. */
export type ShopSecrets = z.output<typeof Stored>;

/** Path of the secrets file in `dataDir`. */
export function secretsFile(dataDir: string): string {
  return join(dataDir, 'secrets.json');
}

/** A readable random password (no look-alike characters). */
export function demoPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(12);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return `${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8, 12)}`;
}

/**
 * Loads the secrets from `dataDir`, creating them on first start.
 *
 * Throws `Error` when the file exists but is malformed (rather than silently replacing it).
 */
export function loadOrCreateSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): ShopSecrets {
  const file = secretsFile(dataDir);
  let secrets: ShopSecrets;
  if (existsSync(file)) {
    const parsed = Stored.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is malformed; delete it to create new secrets`);
    secrets = parsed.data;
  } else {
    secrets = {
      jwtSecret: randomBytes(32).toString('base64url'),
      internalTokenSecret: randomBytes(32).toString('base64url'),
      demo: { alice: demoPassword(), admin: demoPassword() },
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    ...secrets,
    jwtSecret: env.JWT_SECRET ?? secrets.jwtSecret,
    internalTokenSecret: env.INTERNAL_TOKEN_SECRET ?? secrets.internalTokenSecret,
  };
}
