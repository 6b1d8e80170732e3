/**
 * The demo data created on first start: a small catalog with stock, and two users. Product ids
 * are readable and fixed, so catalog and inventory (separate databases) agree without talking.
 */

/** A demo product with its initial stock. */
export interface DemoProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  stock: number;
}

/** The demo catalog. */
export const DEMO_PRODUCTS: readonly DemoProduct[] = [
  {
    id: 'p-espresso-beans',
    sku: 'COF-001',
    name: 'Espresso beans, 1 kg',
    description: 'Dark roast, chocolate and hazelnut notes.',
    category: 'coffee',
    priceCents: 2490,
    stock: 500,
  },
  {
    id: 'p-filter-beans',
    sku: 'COF-002',
    name: 'Filter beans, 500 g',
    description: 'Light roast from Ethiopia, floral and bright.',
    category: 'coffee',
    priceCents: 1490,
    stock: 500,
  },
  {
    id: 'p-decaf-beans',
    sku: 'COF-003',
    name: 'Decaf beans, 500 g',
    description: 'Swiss-water decaf, caramel sweetness.',
    category: 'coffee',
    priceCents: 1390,
    stock: 300,
  },
  {
    id: 'p-hand-grinder',
    sku: 'EQP-001',
    name: 'Hand grinder',
    description: 'Conical steel burrs, 40 grind settings.',
    category: 'equipment',
    priceCents: 8900,
    stock: 150,
  },
  {
    id: 'p-pour-over',
    sku: 'EQP-002',
    name: 'Pour-over dripper',
    description: 'Ceramic, fits size 02 filters.',
    category: 'equipment',
    priceCents: 2900,
    stock: 300,
  },
  {
    id: 'p-kettle',
    sku: 'EQP-003',
    name: 'Gooseneck kettle',
    description: 'Temperature control, 0.9 l.',
    category: 'equipment',
    priceCents: 7900,
    stock: 120,
  },
  {
    id: 'p-scale',
    sku: 'EQP-004',
    name: 'Coffee scale',
    description: 'Timer built in, 0.1 g resolution.',
    category: 'equipment',
    priceCents: 3900,
    stock: 200,
  },
  {
    id: 'p-filters',
    sku: 'ACC-001',
    name: 'Paper filters, 100 pack',
    description: 'Unbleached, size 02.',
    category: 'accessories',
    priceCents: 590,
    stock: 1000,
  },
  {
    id: 'p-mug',
    sku: 'ACC-002',
    name: 'Stoneware mug',
    description: 'Hand glazed, 300 ml.',
    category: 'accessories',
    priceCents: 1800,
    stock: 400,
  },
  {
    id: 'p-travel-cup',
    sku: 'ACC-003',
    name: 'Travel cup',
    description: 'Double wall, leak proof, 350 ml.',
    category: 'accessories',
    priceCents: 2400,
    stock: 250,
  },
  {
    id: 'p-green-tea',
    sku: 'TEA-001',
    name: 'Sencha green tea, 100 g',
    description: 'Grassy and sweet, first flush.',
    category: 'tea',
    priceCents: 1290,
    stock: 300,
  },
  {
    id: 'p-limited-roast',
    sku: 'COF-099',
    name: 'Limited roast, 250 g',
    description: 'Geisha micro-lot. Only a few bags.',
    category: 'coffee',
    priceCents: 4900,
    stock: 3,
  },
];

/** The demo users (their passwords are generated on first start). */
export const DEMO_USERS = {
  alice: { email: 'alice@example.com', name: 'Alice Example', role: 'customer' },
  admin: { email: 'admin@example.com', name: 'Shop Admin', role: 'admin' },
} as const;

/** Alice's address, used in the banner's examples and the tests. */
export const DEMO_ADDRESS = {
  name: 'Alice Example',
  line1: 'Keizersgracht 1',
  city: 'Amsterdam',
  postalCode: '1015 AA',
  country: 'NL',
} as const;
