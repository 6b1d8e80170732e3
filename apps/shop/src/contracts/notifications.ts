/** The notifications service's HTTP contract: a customer's order notifications. */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { id } from './common.js';

/** One notification. */
export const Notification = z.object({
  id,
  orderId: id,
  kind: z.string(),
  message: z.string(),
  createdAt: z.string(),
});

/** The notifications service's endpoints. */
export const notificationsApi = {
  listNotifications: endpoint({
    method: 'GET',
    path: '/notifications',
    summary: 'The caller’s notifications, newest first',
    tags: ['notifications'],
    query: z.object({
      orderId: id.optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    response: z.object({ items: z.array(Notification) }),
    auth: 'authenticated',
  }),
};
