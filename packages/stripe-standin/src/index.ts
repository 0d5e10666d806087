export { startStripeStandin } from "./standin.ts";
export type { StripeStandin, StripeStandinOptions } from "./standin.ts";
export type { CheckoutPayment, EmittedEvent } from "./account.ts";
export type { DeliverOptions, SignOptions, WebhookDelivery, WebhookMode } from "./webhooks.ts";
export type {
  Charge,
  CheckoutSession,
  Customer,
  LineItem,
  PaymentIntent,
  Refund,
  StripeEvent,
  StripeObject,
} from "./objects.ts";
export { formatAmount } from "./checkout-page.ts";
