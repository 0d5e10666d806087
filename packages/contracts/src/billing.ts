import { z } from "zod";

export const CreditPack = z.object({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  name: z.string(),
  credits: z.number().int().positive(),
  /** Price in the currency's minor unit (cents). */
  unitAmount: z.number().int().positive(),
  currency: z.string().length(3),
});
export type CreditPack = z.infer<typeof CreditPack>;
export const CreditPacks = z.array(CreditPack).min(1);

export const DEFAULT_CREDIT_PACKS: CreditPack[] = [
  { id: "starter", name: "100 credits", credits: 100, unitAmount: 500, currency: "usd" },
  { id: "pro", name: "500 credits", credits: 500, unitAmount: 2000, currency: "usd" },
  { id: "studio", name: "2000 credits", credits: 2000, unitAmount: 6000, currency: "usd" },
];

export const CheckoutRequest = z.object({ pack: z.string().min(1, "is required") }).strict();
