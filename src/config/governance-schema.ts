// Declarative governance (`teams:`, `keys:`) and the `governance:` section: budgets' time zone and
// alert delivery.
import { z } from 'zod';

const money = () => z.number().positive();

export const budgetDeclSchema = z.strictObject({
  max_usd: money(),
  period: z.enum(['daily', 'weekly', 'monthly', 'total']),
  hard: z.boolean().default(true),
  alert_thresholds: z.array(z.number().gt(0).max(1)).optional(),
});

export const limitsDeclSchema = z.strictObject({
  rpm: z.int().positive().optional(),
  tpm: z.int().positive().optional(),
  max_concurrency: z.int().positive().optional(),
});

export const teamDeclSchema = z.strictObject({
  name: z.string().min(1),
  budget: budgetDeclSchema.optional(),
  limits: limitsDeclSchema.optional(),
  models: z.array(z.string().min(1)).optional(),
});

export const keyDeclSchema = z.strictObject({
  name: z.string().min(1),
  team: z.string().min(1).optional(),
  /** The secret, normally `${ENV_VAR}`; stored only as its hash. */
  key: z.string().min(16, 'declared keys need at least 16 characters of secret'),
  models: z.array(z.string().min(1)).optional(),
  budget: budgetDeclSchema.optional(),
  limits: limitsDeclSchema.optional(),
  scope: z.enum(['inference', 'admin']).default('inference'),
});

export const governanceSchema = z.strictObject({
  /** IANA time zone that budget periods (daily, weekly, monthly) align to. */
  timezone: z.string().default('UTC'),
  alerts: z
    .strictObject({
      webhook_url: z.url({ protocol: /^https?$/ }).optional(),
      /** HMAC-SHA256 signing secret for the webhook (x-switchyard-signature). */
      webhook_secret: z.string().min(16).optional(),
    })
    .prefault({}),
});

export type BudgetDecl = z.output<typeof budgetDeclSchema>;
export type TeamDecl = z.output<typeof teamDeclSchema>;
export type KeyDecl = z.output<typeof keyDeclSchema>;
export type GovernanceConfig = z.output<typeof governanceSchema>;
