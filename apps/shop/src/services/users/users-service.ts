/**
 * The users service: sign-up and log-in (scrypt hashes, HS256 JWTs the gateway verifies),
 * the caller's profile, and admin reads. Seeds the demo users on first start.
 */
import { NotFoundError, UnauthorizedError } from '@trellis/core';
import { type Identity, route, type Service } from '@trellis/service';
import { usersApi } from '../../contracts/users.js';
import { DEMO_USERS } from '../../demo-data.js';
import { InvalidCredentialsError, isEmailTakenError } from '../../errors.js';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { UserTokenIssuer } from './user-tokens.js';
import { UsersStore } from './users-store.js';

function userId(identity: Identity | undefined): string {
  if (identity?.kind !== 'user') throw new UnauthorizedError('A user identity is required');
  return identity.subject;
}

/** Creates alice and admin with the passwords from the environment, when they do not exist. */
export async function seedUsers(
  store: UsersStore,
  passwords: { alice?: string; admin?: string },
): Promise<number> {
  let created = 0;
  for (const [key, demo] of Object.entries(DEMO_USERS) as [
    keyof typeof DEMO_USERS,
    (typeof DEMO_USERS)[keyof typeof DEMO_USERS],
  ][]) {
    const password = passwords[key];
    if (!password || (await store.findByEmail(demo.email))) continue;
    try {
      await store.insert({ ...demo, passwordHash: await hashPassword(password) });
      created++;
    } catch (error) {
      // Another replica seeded it first.
      if (!isEmailTakenError(error)) throw error;
    }
  }
  return created;
}

/**
 * Builds the users service.
 *
 * Throws `Error` when `JWT_SECRET` is not configured.
 */
export async function build(ctx: ShopContext): Promise<Service> {
  const secret = ctx.config.JWT_SECRET;
  if (!secret) throw new Error('JWT_SECRET is required by the users service');
  const store = await UsersStore.create(ctx.backend.db, ctx.clock);
  const tokens = new UserTokenIssuer(secret, 3600, ctx.clock);
  if (ctx.config.SHOP_SEED) {
    const created = await seedUsers(store, {
      alice: ctx.config.DEMO_ALICE_PASSWORD,
      admin: ctx.config.DEMO_ADMIN_PASSWORD,
    });
    if (created > 0) ctx.logger.info({ created }, 'demo users created');
  }
  const session = async (user: { id: string; role: string }) => {
    const { token, expiresIn } = await tokens.issue(user);
    return { token, tokenType: 'Bearer' as const, expiresIn };
  };

  const routes = [
    route(usersApi.signup, async ({ body }) => {
      const user = await store.insert({
        email: body.email,
        name: body.name,
        role: 'customer',
        passwordHash: await hashPassword(body.password),
      });
      return { user, ...(await session(user)) };
    }),
    route(usersApi.login, async ({ body }) => {
      const found = await store.findByEmail(body.email);
      // Unknown emails cost a full verification too: timing does not reveal who has an account.
      const ok = await verifyPassword(body.password, found?.passwordHash ?? (await decoyHash()));
      if (!found || !ok) throw new InvalidCredentialsError();
      return { user: found.user, ...(await session(found.user)) };
    }),
    route(usersApi.me, async ({ ctx: rc }) => {
      const user = await store.get(userId(rc.identity));
      if (!user) throw new NotFoundError('No such user');
      return user;
    }),
    route(usersApi.updateMe, async ({ body, ctx: rc }) => {
      const user = await store.update(userId(rc.identity), body);
      if (!user) throw new NotFoundError('No such user');
      return user;
    }),
    route(usersApi.getUser, async ({ params }) => {
      const user = await store.get(params.id);
      if (!user) throw new NotFoundError(`No user ${params.id}`);
      return user;
    }),
    route(usersApi.listUsers, ({ query }) => store.list(query.limit, query.cursor)),
  ];
  return createShopService(ctx, routes);
}
