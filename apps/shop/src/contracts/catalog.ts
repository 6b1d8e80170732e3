/**
 * The catalog service's HTTP contract: public browsing and search with keyset pagination,
 * admin writes, and a batch lookup the orders service uses to price an order server-side.
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { adminOnly } from '../platform/identity.js';
import { cents, currency, id, page, pageQuery } from './common.js';

/** A product. */
export const Product = z.object({
  id,
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  priceCents: cents,
  currency,
  createdAt: z.string(),
});
/** A product. */
export type Product = z.output<typeof Product>;

const category = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes');

/** The catalog service's endpoints. */
export const catalogApi = {
  listProducts: endpoint({
    method: 'GET',
    path: '/products',
    summary: 'Browse and search products (by name, ascending)',
    tags: ['products'],
    query: z
      .object({
        q: z.string().trim().max(100).optional(),
        category: category.optional(),
        minPrice: z.coerce.number().int().min(0).optional(),
        maxPrice: z.coerce.number().int().min(0).optional(),
        ...pageQuery,
      })
      .refine((q) => q.minPrice === undefined || q.maxPrice === undefined || q.minPrice <= q.maxPrice, {
        message: 'minPrice must not exceed maxPrice',
        path: ['minPrice'],
      }),
    response: page(Product),
    auth: 'public',
  }),
  getProduct: endpoint({
    method: 'GET',
    path: '/products/:id',
    summary: 'One product',
    tags: ['products'],
    params: z.object({ id }),
    response: Product,
    errors: { 404: 'No such product' },
    auth: 'public',
  }),
  lookupProducts: endpoint({
    method: 'POST',
    path: '/products/lookup',
    summary: 'Several products by id (unknown ids are left out)',
    tags: ['products'],
    body: z.object({ ids: z.array(id).min(1).max(100) }),
    response: z.object({ items: z.array(Product) }),
    auth: 'authenticated',
  }),
  listCategories: endpoint({
    method: 'GET',
    path: '/categories',
    summary: 'Categories with their product counts',
    tags: ['products'],
    response: z.object({ items: z.array(z.object({ category: z.string(), count: z.number().int() })) }),
    auth: 'public',
  }),
  createProduct: endpoint({
    method: 'POST',
    path: '/products',
    summary: 'Add a product (admin)',
    tags: ['products'],
    body: z.object({
      id: id.optional(),
      sku: z.string().trim().min(1).max(50),
      name: z.string().trim().min(1).max(200),
      description: z.string().trim().max(2000).default(''),
      category,
      priceCents: cents,
    }),
    response: Product,
    status: 201,
    errors: { 409: 'SKU or id already exists' },
    auth: adminOnly,
  }),
  updateProduct: endpoint({
    method: 'PATCH',
    path: '/products/:id',
    summary: 'Change a product’s name, description, category or price (admin)',
    tags: ['products'],
    params: z.object({ id }),
    body: z
      .object({
        name: z.string().trim().min(1).max(200).optional(),
        description: z.string().trim().max(2000).optional(),
        category: category.optional(),
        priceCents: cents.optional(),
      })
      .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to update'),
    response: Product,
    errors: { 404: 'No such product' },
    auth: adminOnly,
  }),
};
