/**
 * The payment providers as checkout, webhooks and billing need them: the Razorpay and Stripe API
 * clients and their signature checks.
 */
export * from "./razorpay.ts";
export * from "./signatures.ts";
export * from "./stripe.ts";
export * from "./stripe_signature.ts";
