/**
 * Razorpay as checkout and webhooks both need it: the API client (orders, payments of an order)
 * and the HMAC signature checks.
 */
export * from "./razorpay.ts";
export * from "./signatures.ts";
