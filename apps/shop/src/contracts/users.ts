/**
 * The users service's HTTP contract: sign-up and log-in (public, through the gateway), the
 * caller's own profile, and admin reads.
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { adminOnly } from '../platform/identity.js';
import { Address, id, page, pageQuery } from './common.js';

/** A user's role. */
export const Role = z.enum(['customer', 'admin']);

/** A user as the API shows it (never the password hash). */
export const User = z.object({
  id,
  email: z.string(),
  name: z.string(),
  role: Role,
  address: Address.nullable(),
  createdAt: z.string(),
});
/** A user as the API shows it. */
export type User = z.output<typeof User>;

const email = z
  .email()
  .max(254)
  .transform((e) => e.toLowerCase());
const password = z.string().min(8, 'at least 8 characters').max(200);

/** A session: the user and a JWT the gateway accepts (`Authorization: Bearer <token>`). */
export const Session = z.object({
  user: User,
  token: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});

/** The users service's endpoints. */
export const usersApi = {
  signup: endpoint({
    method: 'POST',
    path: '/auth/signup',
    summary: 'Create a customer account and log in',
    tags: ['auth'],
    body: z.object({ email, password, name: z.string().trim().min(1).max(100) }),
    response: Session,
    status: 201,
    errors: { 409: 'Email already registered' },
    auth: 'public',
    // The answer holds a session token: never kept in an idempotency store (a retry gets 409).
    idempotencyKeys: false,
  }),
  login: endpoint({
    method: 'POST',
    path: '/auth/login',
    summary: 'Exchange email and password for a JWT',
    tags: ['auth'],
    body: z.object({ email, password: z.string().min(1).max(200) }),
    response: Session,
    errors: { 401: 'Invalid email or password' },
    auth: 'public',
    // The answer holds a session token, the request a password: neither is ever stored.
    idempotencyKeys: false,
  }),
  me: endpoint({
    method: 'GET',
    path: '/users/me',
    summary: 'The caller’s profile',
    tags: ['users'],
    response: User,
    auth: 'authenticated',
  }),
  updateMe: endpoint({
    method: 'PATCH',
    path: '/users/me',
    summary: 'Update the caller’s name or default address',
    tags: ['users'],
    body: z
      .object({ name: z.string().trim().min(1).max(100).optional(), address: Address.nullable().optional() })
      .refine((b) => b.name !== undefined || b.address !== undefined, 'nothing to update'),
    response: User,
    auth: 'authenticated',
  }),
  getUser: endpoint({
    method: 'GET',
    path: '/users/:id',
    summary: 'A user by id (admin)',
    tags: ['users'],
    params: z.object({ id }),
    response: User,
    errors: { 404: 'No such user' },
    auth: adminOnly,
  }),
  listUsers: endpoint({
    method: 'GET',
    path: '/users',
    summary: 'All users, oldest first (admin)',
    tags: ['users'],
    query: z.object(pageQuery),
    response: page(User),
    auth: adminOnly,
  }),
};
